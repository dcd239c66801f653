// Live updates of the console (docs/architecture.md, "Live updates"). The panes refresh themselves, declared in
// their templates: htmx's SSE extension holds the stream on #live (live.html) and each event arrives as an
// `sse:<name>` DOM event that the list, the chat and the details panel listen for (`hx-trigger="sse:… from:#live"`),
// morphing into their new state (idiomorph). This file adds what htmx does not do: what a morph keeps, the reader's
// place in the chat, the tab title's count and the notifications. No inline handlers.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || window.counselLive) { return; }
  window.counselLive = true;

  var STREAM_URL = live.getAttribute("sse-connect").split("?")[0];
  var me = live.getAttribute("data-member");
  var text = function (name) { return live.getAttribute("data-text-" + name) || ""; };
  var NEAR_BOTTOM_PX = 40;

  // --- what a live morph keeps ------------------------------------------------------------------------------
  // The server's state comes in; what the member has in hand stays: an element marked data-live-keep (the
  // composer's chosen file and its notice, which composer.js shows), the text of a [data-draft] field, and an
  // open <details> (the assignee picker).
  var morph = window.Idiomorph && window.Idiomorph.defaults.callbacks;
  if (morph) {
    morph.beforeNodeMorphed = function (node) {
      return !(node.nodeType === 1 && node.hasAttribute("data-live-keep"));
    };
    morph.beforeAttributeUpdated = function (name, element, change) {
      if (name === "value" && element.hasAttribute("data-draft")) { return false; }
      if (name === "open" && change === "remove" && element.tagName === "DETAILS") { return false; }
      return true;
    };
  }

  // --- one consultation's events ----------------------------------------------------------------------------
  // A pane of one consultation refreshes on that consultation's (or its customer's) events only. An htmx event
  // filter would say so (`sse:consultation.changed[detail.data=='…']`), but htmx compiles filters with eval, which
  // the Content-Security-Policy refuses (settings.py). So each such event is passed on as `live:<name>:<its data>`
  // and a pane listens for its own: `hx-trigger="live:consultation.changed:<public id> from:#live"`.
  ["consultation.changed", "conversation.changed", "customer.changed"].forEach(function (name) {
    live.addEventListener("sse:" + name, function (event) {
      var data = event.detail && event.detail.data;
      if (data) { live.dispatchEvent(new window.CustomEvent("live:" + name + ":" + data)); }
    });
  });

  // A pane marked data-hold-while-editing (the details pane) does not reload while the member types in one of
  // its [data-draft] fields, so a draft is never wiped: the filter's other half, without eval.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-hold-while-editing") && elt.querySelector("[data-draft]:focus")) {
      event.preventDefault();
    }
  });

  // --- the stream -------------------------------------------------------------------------------------------
  // After an error the extension makes a new EventSource from `sse-connect`: start it after the last event seen.
  live.addEventListener("htmx:sseMessage", function (event) {
    var id = event.detail && event.detail.lastEventId;
    if (id) { live.setAttribute("sse-connect", STREAM_URL + "?last=" + encodeURIComponent(id)); }
  });
  live.addEventListener("htmx:sseOpen", function () {
    setState("open");
    refreshWaiting(); // what changed while it was closed
  });
  live.addEventListener("htmx:sseError", function () { setState("reconnecting"); });

  // #live[data-state] says whether updates arrive; the top bar's notice shows while they do not.
  function setState(state) {
    live.setAttribute("data-state", state);
    var notice = document.getElementById("live-offline");
    if (notice) { notice.hidden = state === "open"; }
  }

  // --- the reader's place in the chat -----------------------------------------------------------------------
  // New lines morph into #chat-messages (chat.html). At the bottom the list follows them; while the member reads
  // older lines it stays put and a "new messages" button appears.
  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  }

  var before = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var list = event.detail.target;
    if (list && list.id === "chat-messages") {
      var last = list.lastElementChild;
      before = { list: list, atBottom: nearBottom(list), last: last ? last.id : "" };
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!before || event.target !== before.list) { return; }
    var list = before.list;
    var last = list.lastElementChild;
    var added = last && last.id !== before.last;
    if (before.atBottom) {
      list.scrollTop = list.scrollHeight;
    } else if (added) {
      showNewMessagesButton(list);
    }
    before = null;
  });

  function showNewMessagesButton(list) {
    var button = list.parentNode.querySelector(".chat-new");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "btn chat-new";
      button.textContent = text("new-messages");
      button.addEventListener("click", function () {
        list.scrollTop = list.scrollHeight;
        button.hidden = true;
      });
      list.insertAdjacentElement("afterend", button);
    }
    button.hidden = false;
  }

  // Scrolled down to the newest line by hand: the button has nothing left to show.
  document.addEventListener("scroll", function (event) {
    var list = event.target;
    if (list.id === "chat-messages" && nearBottom(list)) {
      var button = list.parentNode.querySelector(".chat-new");
      if (button) { button.hidden = true; }
    }
  }, true);

  // --- the tab title: how many consultations wait for me ------------------------------------------------------
  var waiting = 0;
  var PREFIX = /^\(\d+\) /;

  function applyTitle() {
    var bare = document.title.replace(PREFIX, "");
    var title = waiting > 0 ? "(" + waiting + ") " + bare : bare;
    if (document.title !== title) { document.title = title; }
  }

  // A plain JSON read: an ended session answers with the login page, which is not JSON, and the count stays.
  function refreshWaiting() {
    window.fetch(live.getAttribute("data-waiting-url"), { credentials: "same-origin" }).then(function (response) {
      return response.json();
    }).then(function (body) {
      waiting = Number(body.waiting) || 0;
      applyTitle();
    }).catch(function () { /* kept as it was */ });
  }

  live.addEventListener("sse:counts.changed", refreshWaiting);
  // Opening another consultation swaps in its page title: put the count back in front.
  document.addEventListener("htmx:afterSettle", applyTitle);

  // --- notifications: a short sound and a desktop notification, when turned on -------------------------------
  var STORAGE_KEY = "counsel.notifications";
  var toggle = document.getElementById("notify-toggle");
  var audio = null;

  function notificationsOn() {
    try { return window.localStorage.getItem(STORAGE_KEY) === "on"; } catch (error) { return false; }
  }

  function showToggle() {
    if (!toggle) { return; }
    var on = notificationsOn();
    toggle.hidden = false;
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    toggle.textContent = on ? text("notify-on") : text("notify-off");
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      var on = !notificationsOn();
      try { window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off"); } catch (error) { /* private mode */ }
      if (on && "Notification" in window && window.Notification.permission === "default") {
        window.Notification.requestPermission();
      }
      if (on) { beep(); } // the click lets the page play sound from now on, and shows what it sounds like
      showToggle();
    });
    showToggle();
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.25);
    } catch (error) { /* no sound is not an error */ }
  }

  // Assigned to me by someone else, or a customer of mine writing.
  function notifyIfMine(event) {
    var kind = event.type.slice(4); // "sse:message.created" → "message.created"
    var data;
    try { data = JSON.parse(event.detail.data); } catch (error) { return; }
    if (!me || String(data.actor) === me) { return; } // my own actions need no alert
    var assigned = kind !== "message.created" && String(data.assignee) === me;
    var wrote = kind === "message.created" && data.sender === "customer" && String(data.assignee) === me;
    if (!assigned && !wrote) { return; }
    live.dispatchEvent(new window.CustomEvent("counsel:notify", { detail: { kind: kind, data: data } }));
    if (!notificationsOn()) { return; }
    beep();
    if ("Notification" in window && window.Notification.permission === "granted" && document.hidden) {
      var body = assigned ? text("assigned") : text("message");
      var note = new window.Notification(document.title.replace(PREFIX, ""), { body: body, tag: data.consultation || kind });
      note.onclick = function () { window.focus(); note.close(); };
    }
  }

  ["sse:consultation.assigned", "sse:consultation.assignee_changed", "sse:message.created"].forEach(function (name) {
    live.addEventListener(name, notifyIfMine);
  });

  refreshWaiting();
})();
