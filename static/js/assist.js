// The assist panel (templates/console/assist.html): its tabs, and inserting an answer or a
// template into the composer. Listeners sit on document, so content that htmx swaps in works
// without re-binding. No inline handlers; the panel's texts come from its data attributes.
(function () {
  "use strict";
  // The panel may arrive more than once (a boosted navigation swaps the console): listen once.
  if (window.counselAssist) { return; }
  window.counselAssist = true;

  var COMPOSER_ID = "composer-text";

  function showTab(panel, name, focus) {
    panel.querySelectorAll("[data-assist-tab]").forEach(function (tab) {
      var on = tab.getAttribute("data-assist-tab") === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    });
    panel.querySelectorAll("[data-assist-panel]").forEach(function (section) {
      section.hidden = section.getAttribute("data-assist-panel") !== name;
    });
  }

  function say(panel, text) {
    var status = panel && panel.querySelector("[data-assist-status]");
    if (status) status.textContent = text || "";
  }

  // Inserts at the composer's cursor (or at its end, if the member never placed one), then focuses it
  // with the cursor after the inserted text. A line break keeps it apart from text already on either
  // side, so two answers never run together ("…드립니다.문의해 주셔서…").
  // No composer on the page, or a disabled one (R8): nothing changes but a hint in the panel.
  function insertIntoComposer(button) {
    var panel = button.closest("[data-assist]");
    var box = document.getElementById(COMPOSER_ID);
    if (!box || box.disabled || box.readOnly || typeof box.setRangeText !== "function") {
      say(panel, panel && panel.getAttribute("data-assist-no-composer"));
      return;
    }
    var text = button.getAttribute("data-assist-insert") || "";
    var placed = box.getAttribute("data-assist-cursor") === "1";
    var start = placed ? box.selectionStart : box.value.length;
    var end = placed ? box.selectionEnd : box.value.length;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    var breakAfter = Boolean(after) && !/^\n/.test(after);
    if (before && !/\n$/.test(before)) text = "\n" + text;
    if (breakAfter) text = text + "\n";
    box.focus();
    box.setRangeText(text, start, end, "end");
    var caret = start + text.length - (breakAfter ? 1 : 0); // right after the inserted text
    box.setSelectionRange(caret, caret);
    // Let the composer's own script (size, counter, send button) see the new text.
    box.dispatchEvent(new Event("input", { bubbles: true }));
    say(panel, "");
  }

  // Remember that the member placed a cursor in the composer, so an insert goes there.
  document.addEventListener("focusin", function (event) {
    if (event.target.id === COMPOSER_ID) event.target.setAttribute("data-assist-cursor", "1");
  });

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    var tab = event.target.closest("[data-assist-tab]");
    if (tab) {
      event.preventDefault(); // the href is for a browser without scripts
      showTab(tab.closest("[data-assist]"), tab.getAttribute("data-assist-tab"), false);
      return;
    }
    var insert = event.target.closest("[data-assist-insert]");
    if (insert) {
      insertIntoComposer(insert);
      return;
    }
    var choice = event.target.closest("[data-assist-select]");
    if (choice) {
      var list = choice.closest("ul");
      if (list) {
        list.querySelectorAll(".is-selected").forEach(function (other) { other.classList.remove("is-selected"); });
      }
      choice.classList.add("is-selected");
    }
  });

  // The ARIA tabs pattern: arrows, Home and End move between the tabs.
  document.addEventListener("keydown", function (event) {
    if (!(event.target instanceof Element) || !event.target.matches("[data-assist-tab]")) return;
    var panel = event.target.closest("[data-assist]");
    var tabs = Array.prototype.slice.call(panel.querySelectorAll("[data-assist-tab]"));
    var index = tabs.indexOf(event.target);
    var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    var tab = tabs[(next + tabs.length) % tabs.length];
    showTab(panel, tab.getAttribute("data-assist-tab"), true);
  });
})();
