// Live updates of the console (docs/architecture.md, "Live updates"). htmx's SSE extension holds the stream of the
// center's events on #live and fires `sse:<event name>` on #live-events; this file turns each event into the
// smallest refresh that shows it: the list (rows, counts), the open chat (new lines appended, controls and the
// composer's state), the details panel, the tab title's count, and a sound and desktop notification when
// something is for me. Events arriving together are handled together. No inline handlers.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || window.counselLive) { return; }
  window.counselLive = true;

  var STREAM_URL = live.getAttribute("sse-connect").split("?")[0];
  var KINDS = (document.getElementById("live-events").getAttribute("hx-trigger") || "")
    .split(",").map(function (name) { return name.trim(); }).filter(Boolean);
  var me = live.getAttribute("data-member");
  var text = function (name) { return live.getAttribute("data-text-" + name) || ""; };
  var BATCH_MS = 150; // events closer together than this are one refresh
  var NEAR_BOTTOM_PX = 40;

  // --- what the next refresh must do -------------------------------------------------------------------------
  var pending = fresh();
  var timer = null;

  function fresh() {
    return { list: false, openChanged: false, waiting: false, chatAfter: null, chatFor: null };
  }

  function schedule() {
    if (timer === null) { timer = window.setTimeout(flush, BATCH_MS); }
  }

  function openChat() { return document.getElementById("chat"); }

  function onEvent(event) {
    var message = event.detail || {};
    var kind = event.type.slice(4); // "sse:message.created" → "message.created"
    if (message.lastEventId) {
      // A stream the extension must recreate (after an error) starts after the last event seen.
      live.setAttribute("sse-connect", STREAM_URL + "?last=" + encodeURIComponent(message.lastEventId));
    }
    var data;
    try { data = JSON.parse(message.data || "{}"); } catch (error) { return; }
    if (kind === "counts.changed") {
      pending.list = true;
      pending.waiting = true;
      schedule();
      return;
    }
    // A delivery state or a thumbnail changes one line of the chat, not the list.
    if (kind !== "message.delivery" && kind !== "message.file_ready") { pending.list = true; }
    var transition = kind.indexOf("consultation.") === 0;
    if (transition) { pending.waiting = true; }
    var chat = openChat();
    if (chat && data.consultation && data.consultation === chat.getAttribute("data-consultation")) {
      // Every line from this event on; lines already shown are replaced in place, never doubled.
      var after = Number(data.id) - 1;
      if (pending.chatFor !== data.consultation || pending.chatAfter === null || after < pending.chatAfter) {
        pending.chatAfter = after;
        pending.chatFor = data.consultation;
      }
      if (transition) { pending.openChanged = true; }
    } else if (chat && kind.indexOf("customer.") === 0 && String(data.customer) === chat.getAttribute("data-customer")) {
      pending.openChanged = true;
    }
    notifyIfMine(kind, data);
    schedule();
  }

  KINDS.forEach(function (trigger) {
    document.addEventListener(trigger, onEvent);
  });

  // The page (and, after an error, the extension) connects with a cursor: nothing is missed, nothing to re-read.
  live.addEventListener("htmx:sseOpen", function () {
    setState("open");
    pending.waiting = true;
    schedule();
  });
  live.addEventListener("htmx:sseError", function () { setState("reconnecting"); });

  // #live[data-state] says whether updates arrive; the top bar's notice shows while they do not.
  function setState(state) {
    live.setAttribute("data-state", state);
    var notice = document.getElementById("live-offline");
    if (notice) { notice.hidden = state === "open"; }
  }

  function flush() {
    timer = null;
    var todo = pending;
    pending = fresh();
    var chat = openChat();
    if (todo.chatAfter !== null && chat && chat.getAttribute("data-consultation") === todo.chatFor) {
      appendSince(chat, todo.chatAfter);
    }
    if (todo.openChanged && chat) {
      refreshControls(chat);
      // The list and the details panel both refresh on this (their hx-trigger).
      window.htmx.trigger(document.body, "consultation-changed");
    } else if (todo.list) {
      refreshList();
    }
    if (todo.waiting) { refreshWaiting(); }
  }

  // --- fetching ----------------------------------------------------------------------------------------------
  function get(url) {
    return window.fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (response) {
      var redirect = response.headers.get("HX-Redirect");
      if (redirect) { window.location.href = redirect; } // the session ended: to the login page
      if (!response.ok || redirect) { throw new Error("live refresh: " + response.status); }
      return response;
    });
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  // --- the list ----------------------------------------------------------------------------------------------
  function refreshList() {
    var pane = document.getElementById("list-pane");
    if (!pane || !window.htmx) { return; }
    window.htmx.ajax("GET", pane.getAttribute("hx-get"), { source: pane, target: pane, swap: "outerHTML" });
  }

  // Any refresh of the list keeps its scroll position (the rows scroll inside the pane).
  var listScroll = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "list-pane") {
      var rows = target.querySelector(".rows");
      listScroll = { pane: target.scrollTop, rows: rows ? rows.scrollTop : 0 };
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!listScroll) { return; }
    var pane = document.getElementById("list-pane");
    if (pane) {
      pane.scrollTop = listScroll.pane;
      var rows = pane.querySelector(".rows");
      if (rows) { rows.scrollTop = listScroll.rows; }
    }
    listScroll = null;
  });

  // --- the open chat -----------------------------------------------------------------------------------------
  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  }

  function appendSince(chat, after) {
    get(chat.getAttribute("data-since-url") + "?after=" + after).then(function (response) {
      return response.text().then(function (html) {
        if (openChat() !== chat) { return; } // another consultation was opened meanwhile
        if (response.headers.get("X-Counsel-More")) { reloadChat(chat); return; }
        addLines(chat, parse(html));
      });
    }).catch(function () { /* the next event or reconnect reads again */ });
  }

  function addLines(chat, content) {
    var list = chat.querySelector("#chat-messages");
    if (!list) { return; }
    var stayAtBottom = nearBottom(list);
    var added = 0;
    content.querySelectorAll("li[id]").forEach(function (line) {
      var shown = document.getElementById(line.id);
      if (shown) {
        if (list.contains(shown)) { shown.replaceWith(line); window.htmx.process(line); } // e.g. delivery state
        return;
      }
      list.appendChild(line);
      window.htmx.process(line);
      added += 1;
    });
    if (!added) { return; }
    if (stayAtBottom) {
      list.scrollTop = list.scrollHeight;
    } else {
      showNewMessagesButton(chat, list); // the member is reading older lines: do not move them
    }
  }

  function showNewMessagesButton(chat, list) {
    var button = chat.querySelector(".chat-new");
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

  // The header, the management buttons and the composer's state follow a change made elsewhere (assigned to
  // someone, closed, put on hold, customer blocked); the message list and a draft being typed stay as they are.
  // The open pane as the server renders it now, to `use` while the same consultation is still open.
  function withFreshPane(chat, use) {
    get(chat.getAttribute("data-pane-url")).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (openChat() !== chat) { return; }
      var next = parse(html).querySelector("#chat");
      if (next) { use(next); }
    }).catch(function () { /* the next event or reconnect reads again */ });
  }

  function refreshControls(chat) {
    withFreshPane(chat, function (next) {
      [".chat-header", ".chat-manage"].forEach(function (selector) {
        var old = chat.querySelector(selector);
        var neu = next.querySelector(selector);
        if (!old || !neu) { return; }
        var picker = old.querySelector("details[open]");
        if (picker && neu.querySelector("details")) { neu.querySelector("details").open = true; }
        old.replaceWith(neu);
        window.htmx.process(neu);
      });
      replaceComposer(chat, next);
    });
  }

  function replaceComposer(chat, next) {
    var old = chat.querySelector("form.composer");
    var neu = next.querySelector("form.composer");
    if (!old || !neu) { return; }
    var oldText = old.querySelector("textarea");
    var newText = neu.querySelector("textarea");
    var oldReason = old.querySelector(".composer-reason");
    var newReason = neu.querySelector(".composer-reason");
    var same = oldText.disabled === newText.disabled &&
      (oldReason ? oldReason.textContent : "") === (newReason ? newReason.textContent : "");
    if (same) { return; } // untouched: the draft, the caret and the focus stay
    var hadFocus = document.activeElement === oldText;
    newText.value = oldText.value; // a draft survives being disabled and enabled again
    old.replaceWith(neu);
    window.htmx.process(neu);
    if (hadFocus && !newText.disabled) { newText.focus(); }
  }

  // Too many lines at once to append: the whole pane again, keeping the draft.
  function reloadChat(chat) {
    withFreshPane(chat, function (next) {
      var draft = chat.querySelector("#composer-text");
      var nextDraft = next.querySelector("#composer-text");
      if (draft && nextDraft && draft.value) { nextDraft.value = draft.value; }
      var list = chat.querySelector("#chat-messages");
      var reading = list && !nearBottom(list);
      if (reading) {
        // Older pages the member loaded would be lost: add the new lines instead of replacing the pane.
        addLines(chat, next.querySelector("#chat-messages"));
        replaceComposer(chat, next);
        return;
      }
      chat.replaceWith(next);
      window.htmx.process(next);
      var newList = next.querySelector("#chat-messages");
      if (newList) { newList.scrollTop = newList.scrollHeight; }
    });
  }

  // --- the tab title: how many consultations wait for me ------------------------------------------------------
  var waiting = 0;
  var PREFIX = /^\(\d+\) /;

  function applyTitle() {
    var bare = document.title.replace(PREFIX, "");
    var title = waiting > 0 ? "(" + waiting + ") " + bare : bare;
    if (document.title !== title) { document.title = title; }
  }

  function refreshWaiting() {
    get(live.getAttribute("data-waiting-url")).then(function (response) {
      return response.json();
    }).then(function (body) {
      waiting = Number(body.waiting) || 0;
      applyTitle();
    }).catch(function () { /* kept as it was */ });
  }

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

  function notifyIfMine(kind, data) {
    if (!me || String(data.actor) === me) { return; } // my own actions need no alert
    var assigned = (kind === "consultation.assigned" || kind === "consultation.assignee_changed") &&
      String(data.assignee) === me;
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

  refreshWaiting();
})();
