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
})();
