// Small behaviours of the console that htmx does not cover. No inline handlers.
(function () {
  "use strict";
  // <select data-autosubmit>: submit its form on change (center switcher, list filters).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
  });

  // The phone's bottom bar (console.html): one pane at a time, by #console's data-pane (console.css).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-pane-show]");
    var root = document.getElementById("console");
    if (!button || !root) return;
    var pane = button.getAttribute("data-pane-show");
    root.setAttribute("data-pane", pane);
    root.querySelectorAll("[data-pane-show]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
    window.scrollTo(0, 0);
  });
})();
