// The list pane (templates/console/list.html) keeps its place when a row opens a consultation.
// A row link swaps the whole console (#console, hx-boost), list pane included: the new pane would start at its
// top and the row just clicked could be out of sight. Its scroll position is carried over, and the open row is
// brought into view below the pane's sticky head when it is not. Loaded with the list (inside #console), so it
// may run again after a swap: it installs its listeners once.
(function () {
  "use strict";
  if (window.counselListPane) { return; }
  window.counselListPane = true;
  var saved = null;

  function listPane() { return document.getElementById("list-pane"); }

  function showOpenRow(pane) {
    var row = pane.querySelector("a.row.is-open");
    var head = pane.querySelector(".list-head");
    if (!row) { return; }
    var paneBox = pane.getBoundingClientRect();
    var top = head ? head.getBoundingClientRect().bottom : paneBox.top;
    var box = row.getBoundingClientRect();
    if (box.top < top) {
      pane.scrollTop -= top - box.top;
    } else if (box.bottom > paneBox.bottom) {
      pane.scrollTop += box.bottom - paneBox.bottom;
    }
  }

  // Opened by its URL: the open row in view at once.
  function showOnLoad() { var pane = listPane(); if (pane) { showOpenRow(pane); } }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showOnLoad);
  } else {
    showOnLoad();
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var pane = listPane();
    saved = target && target.id === "console" && pane ? pane.scrollTop : null;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var pane = listPane();
    if (saved === null || !pane || !target || !(target.id === "console" || target.contains(pane))) { return; }
    pane.scrollTop = saved;
    saved = null;
    showOpenRow(pane);
  });
})();
