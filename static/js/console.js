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

  // htmx swaps no error response. One that explains itself in a sentence (the 503 of a request that met the
  // database restarting, counsel_center/unavailable.py) is shown below the top bar until a request succeeds.
  var notice = null;
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    if (xhr.status !== 503 || type.indexOf("text/plain") !== 0 || !xhr.responseText) return;
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "request-notice";
      notice.setAttribute("role", "alert");
      document.body.appendChild(notice);
    }
    notice.textContent = xhr.responseText;
    notice.hidden = false;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (notice && event.detail.successful) notice.hidden = true;
  });
})();
