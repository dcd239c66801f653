// The assist panel (templates/console/assist.html) in its drawer (console.html): opening it on demand (the
// composer's button, "/" at the start of a line or outside a text field), closing it (Esc, ×, a click
// elsewhere), its tabs, the template filter, and inserting an answer or a template into the composer.
// Listeners sit on document, so content that htmx swaps in works without re-binding. No inline handlers;
// the panel's texts come from its data attributes.
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

  // --- the drawer -----------------------------------------------------------------------------------------
  var opener = null; // what had the focus before the drawer opened: it gets it back

  function drawer() { return document.querySelector("[data-assist-drawer]"); }
  function isOpen() { var d = drawer(); return Boolean(d && !d.hidden); }

  function setExpanded(on) {
    document.querySelectorAll("[data-assist-open]").forEach(function (button) {
      button.setAttribute("aria-expanded", on ? "true" : "false");
    });
  }

  // Just above the composer, over the conversation: the messages keep the pane's height.
  function place(box) {
    var pane = box.offsetParent;
    var composer = document.getElementById("composer");
    if (!pane || !composer) return;
    var paneBox = pane.getBoundingClientRect();
    var bottom = Math.max(8, paneBox.bottom - composer.getBoundingClientRect().top + 8);
    box.style.bottom = bottom + "px";
    box.style.maxHeight = Math.max(160, paneBox.height - bottom - 16) + "px";
  }

  // The field to type in first: the open tab's search, else its first link or button.
  function firstStop(box) {
    var tab = box.querySelector("[data-assist-panel]:not([hidden])");
    return tab && (tab.querySelector("input[type=search]") || tab.querySelector("a, button"));
  }

  function open() {
    var box = drawer();
    if (!box) return false;
    if (!box.hidden) { var again = firstStop(box); if (again) again.focus(); return true; }
    opener = document.activeElement;
    box.hidden = false;
    place(box);
    setExpanded(true);
    var stop = firstStop(box) || box.querySelector("[data-assist-close]");
    if (stop) stop.focus();
    return true;
  }

  function close(refocus) {
    var box = drawer();
    if (!box || box.hidden) return;
    box.hidden = true;
    setExpanded(false);
    if (refocus) {
      var back = opener && document.contains(opener) ? opener : document.getElementById(COMPOSER_ID);
      if (back && !back.disabled) back.focus();
    }
    opener = null;
  }

  window.counselAssist = { open: open, close: close, isOpen: isOpen };

  // Typing in a field: the composer, a search, any text the member writes.
  function typing(target) {
    return target instanceof Element && (target.isContentEditable || target.matches("input, textarea, select"));
  }

  // "/" at the start of the composer's line (Chatwoot's canned responses): the drawer instead of the character.
  // "/" again in the drawer's empty search puts the "/" in the composer after all.
  function atLineStart(box) {
    var before = box.value.slice(0, box.selectionStart);
    return box.selectionStart === box.selectionEnd && (before === "" || /\n$/.test(before));
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      close(true);
      return;
    }
    if (event.key !== "/") return;
    if (target instanceof Element && target.id === COMPOSER_ID) {
      if (atLineStart(target) && open()) event.preventDefault();
      return;
    }
    if (isOpen() && target instanceof Element && target.matches("[data-assist-drawer] input[type=search]") && !target.value) {
      event.preventDefault();
      close(false);
      var box = document.getElementById(COMPOSER_ID);
      if (box && !box.disabled) {
        box.focus();
        box.setRangeText("/", box.selectionStart, box.selectionEnd, "end");
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
      return;
    }
    if (!typing(target) && open()) event.preventDefault();
  });

  // A click outside the drawer (and not on its button) closes it, as a popover does.
  document.addEventListener("click", function (event) {
    if (!isOpen() || !(event.target instanceof Element)) return;
    if (event.target.closest("[data-assist-drawer], [data-assist-open]")) return;
    if (!document.contains(event.target)) return; // a node that a swap just removed (a ☆ form's reload)
    close(false);
  });

  window.addEventListener("resize", function () { var box = drawer(); if (box && !box.hidden) place(box); });

  // The template filter: the list is on the page whole; hide what does not match the words typed.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof Element) || !field.matches("[data-assist-filter]")) return;
    var list = document.getElementById(field.getAttribute("data-assist-filter"));
    if (!list) return;
    var words = field.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    list.querySelectorAll(".assist-template").forEach(function (link) {
      var hay = link.textContent.toLowerCase();
      var match = words.every(function (word) { return hay.indexOf(word) !== -1; });
      link.parentElement.hidden = !match;
      if (match) shown += 1;
    });
    var none = field.closest("[data-assist-panel]").querySelector("[data-assist-filter-empty]");
    if (none) none.hidden = shown > 0 || !list.querySelector(".assist-template");
  });

  // Arrow keys from a search field into its results and between them; Enter on a template previews it.
  function stops(panel) {
    return Array.prototype.slice.call(
      panel.querySelectorAll("input[type=search], .assist-template, .assist-insert, .assist-favorite-open")
    ).filter(function (node) { return node.offsetParent !== null; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var target = event.target;
    if (!(target instanceof Element) || !target.closest("[data-assist-drawer] [data-assist-panel]")) return;
    var list = stops(target.closest("[data-assist-panel]"));
    var index = list.indexOf(target);
    if (index === -1) return;
    var next = list[index + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) { event.preventDefault(); next.focus(); }
  });

  // A template chosen by keyboard: once its preview arrives, its insert button has the focus.
  var previewByKey = false;
  document.addEventListener("keydown", function (event) {
    previewByKey = event.key === "Enter" && event.target instanceof Element && event.target.matches(".assist-template");
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!previewByKey || !event.target || event.target.id !== "assist-template-preview") return;
    previewByKey = false;
    var insert = event.target.querySelector(".assist-insert");
    if (insert) insert.focus();
  });

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
    close(false); // the conversation gets its space back; the cursor stays after the text
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
    if (event.target.closest("[data-assist-open]")) {
      if (isOpen()) { close(true); } else { open(); }
      return;
    }
    if (event.target.closest("[data-assist-close]")) {
      close(true);
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
