// The chat pane: Enter sends (Shift+Enter: a new line; never while an IME is composing Korean), the message list
// opens at its newest message, and older pages load when it is scrolled to the top without moving what is on
// screen. No inline handlers.
(function () {
  "use strict";
  // chat.html may be swapped in more than once (boosted navigation): listen once.
  if (window.counselChat) { return; }
  window.counselChat = true;

  var TOP_MARGIN = 80; // px from the top at which the older page is asked for
  var anchor = null; // the list being prepended to, and its distance from the bottom before the swap

  function scrollToNewest(root) {
    var lists = root.querySelectorAll ? root.querySelectorAll(".chat-messages") : [];
    for (var i = 0; i < lists.length; i++) {
      lists[i].scrollTop = lists[i].scrollHeight;
    }
  }

  function loadOlder(list) {
    if (list.scrollTop > TOP_MARGIN) { return; }
    var button = list.querySelector("[data-load-older]");
    if (button && !button.hasAttribute("data-loading") && window.htmx) {
      button.setAttribute("data-loading", "");
      window.htmx.trigger(button, "load-older");
    }
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("#composer-text")) { return; }
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) { return; }
    // 229: the key that ends a Hangul composition in browsers that do not set isComposing.
    if (event.isComposing || event.keyCode === 229) { return; }
    event.preventDefault();
    if (target.disabled) { return; }
    var file = target.form.querySelector(".composer-file-input");
    var hasFile = file && file.files && file.files.length > 0; // text is optional with a file (composer.js)
    if (!target.value.trim() && !hasFile) { return; }
    target.form.requestSubmit();
  });

  // `scroll` does not bubble: listen in the capture phase for every list, present and future.
  document.addEventListener("scroll", function (event) {
    var list = event.target;
    if (list.matches && list.matches(".chat-messages")) { loadOlder(list); }
  }, true);

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.matches && target.matches(".chat-older")) {
      var list = target.closest(".chat-messages");
      anchor = { list: list, fromBottom: list.scrollHeight - list.scrollTop };
    }
  });

  // Fired on each new element right after the swap, before the page is painted. (htmx itself gives focus back to
  // the control of the same id, so a button pressed in the management bar keeps the focus.)
  document.addEventListener("htmx:afterSwap", function (event) {
    var elt = event.detail.elt;
    if (anchor) {
      // What was on screen stays there: the older page grows the list above it.
      anchor.list.scrollTop = anchor.list.scrollHeight - anchor.fromBottom;
      window.setTimeout(function () { anchor = null; }, 0);
    } else if (elt.querySelector && elt.querySelector(".chat-messages")) {
      scrollToNewest(elt);
    }
  });

  // The first page load (htmx fires htmx:load on <body>).
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt === document.body) { scrollToNewest(document); }
  });

  // Loaded after htmx's first htmx:load (a swap that brought this file in): place the list now.
  scrollToNewest(document);
  document.addEventListener("DOMContentLoaded", function () { scrollToNewest(document); });
})();
