// The console's keyboard (the shortcuts dialog in console.html lists them): j/k or ↑/↓ move through the list and
// Enter opens the row (a link: htmx's boost follows it), Esc closes the open picker, ? shows the shortcuts.
// "/" and the assist drawer's own Esc are assist.js's. Keys typed into a field are the field's, never a shortcut.
(function () {
  "use strict";
  if (window.counselKeys) { return; }
  window.counselKeys = true;

  var ROWS = "#list-pane a.row";
  var openedByKey = false;

  function typing(target) {
    return target instanceof Element && (target.isContentEditable || target.matches("input, textarea, select"));
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(ROWS)); }

  function move(step) {
    var list = rows();
    if (!list.length) { return false; }
    var at = list.indexOf(document.activeElement);
    if (at === -1) { at = list.indexOf(document.querySelector(ROWS + '[aria-current="true"]')); }
    var next = at === -1 ? list[0] : list[Math.min(list.length - 1, Math.max(0, at + step))];
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: "nearest" });
    return true;
  }

  // ↑/↓ belong to whatever has the focus (the messages scroll with them): they move the list only from the list
  // itself or from nowhere. j/k move it from anywhere but a field.
  function arrowsAreOurs(target) {
    return target === document.body || target === document.documentElement ||
      (target instanceof Element && Boolean(target.closest("#list-pane")));
  }

  function shortcuts() { return document.getElementById("shortcuts"); }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var dialog = shortcuts();
    if (dialog && dialog.open) { return; } // the dialog's own keys: Esc closes it, Tab stays in it
    if (event.key === "Escape") {
      var picker = target instanceof Element && target.closest("details[open]") || document.querySelector("#console details[open]");
      if (picker) {
        event.preventDefault();
        picker.open = false;
        var summary = picker.querySelector("summary");
        if (summary) { summary.focus(); }
      }
      return;
    }
    if (typing(target)) { return; }
    if (event.key === "?" && dialog) {
      event.preventDefault();
      dialog.showModal();
      return;
    }
    var step = { j: 1, k: -1, ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (step === undefined || (event.key.indexOf("Arrow") === 0 && !arrowsAreOurs(target))) { return; }
    if (move(step)) { event.preventDefault(); }
  });

  // Enter on a row opens it (the link); once the console is swapped in, the opened row has the focus again, so
  // j/k go on from there.
  document.addEventListener("keydown", function (event) {
    openedByKey = event.key === "Enter" && event.target instanceof Element && event.target.matches(ROWS);
  }, true);
  document.addEventListener("htmx:afterSettle", function () {
    if (!openedByKey) { return; }
    openedByKey = false;
    var opened = document.querySelector(ROWS + '[aria-current="true"]');
    if (opened) {
      opened.focus({ preventScroll: true });
      opened.scrollIntoView({ block: "nearest" });
    }
  });

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) { return; }
    if (event.target.closest("[data-shortcuts-open]") && shortcuts()) { shortcuts().showModal(); }
  });
})();
