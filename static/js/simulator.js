/*
 * Customer simulator (SPEC §7): plays a channel customer against the center's webhook.
 *
 * Every action builds an event, signs `<timestamp>.<event JSON>` with
 * HMAC-SHA256 (WebCrypto) using the center's webhook secret, and POSTs it to
 * the webhook exactly as a channel would: JSON, or multipart with `event` and
 * `file`. The conversation is polled from the simulator's messages endpoint.
 *
 * Plain script, no framework, no inline handlers: the page wires everything
 * through data attributes.
 */
(() => {
  "use strict";

  const root = document.getElementById("simulator");
  if (!root) return;

  const T = JSON.parse(document.getElementById("simulator-strings").textContent);
  const WEBHOOK_URL = root.dataset.webhookUrl;
  const MESSAGES_URL = root.dataset.messagesUrl;
  const SECRET = root.dataset.secret;
  const NEW_NICKNAME = root.dataset.newNickname;
  const LANG = document.documentElement.lang || "ko";
  const POLL_MS = 2000;

  // SPEC §4: the extension decides the kind; anything else goes as a plain file.
  const KINDS = {
    image: ["jpg", "jpeg", "gif", "bmp", "png"],
    video: ["m4v", "avi", "asf", "wmv", "mkv", "mpg", "mpeg", "mp4", "mov", "flv", "ogv", "ts"],
    audio: ["mp3", "wav", "flac", "tta", "tak", "aac", "wma", "ogg", "m4a"],
  };

  const role = (name) => root.querySelector(`[data-role="${name}"]`);
  const el = {
    panel: role("panel"),
    select: role("customer-select"),
    nickname: role("nickname"),
    userKey: role("user-key"),
    friend: role("friend"),
    customerId: role("customer-id"),
    status: role("status"),
    banner: role("banner"),
    chat: role("chat"),
    composer: role("composer"),
    text: role("text"),
    fileInput: role("file-input"),
  };

  const state = {
    generation: 0, // bumped when the customer changes: late answers for the old one are dropped
    afterMessage: null,
    afterEvent: null,
    seen: new Set(),
    lastDay: null,
    polling: false,
    pollAgain: false,
    timer: null,
  };

  // --- signing and sending ---------------------------------------------------

  const encoder = new TextEncoder();
  let hmacKey = null;

  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function sign(timestamp, jsonText) {
    hmacKey ??= crypto.subtle.importKey("raw", encoder.encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    const mac = await crypto.subtle.sign("HMAC", await hmacKey, encoder.encode(`${timestamp}.${jsonText}`));
    return `sha256=${hex(mac)}`;
  }

  /** POST one signed event; resolves to {ok, status, data}, status 0 when the webhook was not reached. */
  async function post(event, file) {
    const jsonText = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      "X-Channel-Timestamp": timestamp,
      "X-Channel-Signature": await sign(timestamp, jsonText),
    };
    let body;
    if (file) {
      // The `event` field is exactly the signed text; the browser sets the multipart boundary.
      body = new FormData();
      body.append("event", jsonText);
      body.append("file", file, file.name);
    } else {
      headers["Content-Type"] = "application/json";
      body = jsonText;
    }
    try {
      const response = await fetch(WEBHOOK_URL, { method: "POST", headers, body, credentials: "omit", cache: "no-store" });
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      return { ok: response.ok, status: response.status, data: data || {} };
    } catch {
      return { ok: false, status: 0, data: {} };
    }
  }

  function errorText(result) {
    const { status, data } = result;
    if (status === 0) return T.network;
    if (data.error === "customer_blocked") return T.customer_blocked;
    if (status === 401) return `${T.bad_signature} (${data.error || status})`;
    if (status === 413) return T.too_large;
    if (data.error === "unknown_center") return T.unknown_center;
    const detail = data.detail ? `: ${data.detail}` : "";
    return `${T.refused} (${status} ${data.error || ""})${detail}`;
  }

  function customer() {
    return {
      userKey: el.userKey.value.trim(),
      nickname: el.nickname.value.trim(),
      isFriend: el.friend.checked,
    };
  }

  function baseEvent(type) {
    const who = customer();
    return {
      event_id: crypto.randomUUID(),
      type,
      user_key: who.userKey,
      profile_nickname: who.nickname,
      is_friend: who.isFriend,
      sent_at: new Date().toISOString(),
    };
  }

  function kindOf(name) {
    const dot = name.lastIndexOf(".");
    const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : "";
    for (const [kind, extensions] of Object.entries(KINDS)) {
      if (extensions.includes(ext)) return kind;
    }
    return "file";
  }

  function ready() {
    if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
      showBanner(T.insecure);
      return false;
    }
    if (!customer().userKey) {
      showBanner(T.no_user_key);
      el.userKey.focus();
      return false;
    }
    hideBanner();
    return true;
  }

  /** After the webhook answered a message event for `row` (the bubble shown while sending). */
  function settle(row, result, generation) {
    if (generation !== state.generation) return;
    if (!result.ok) {
      row.dataset.state = "failed";
      row.dataset.error = result.data.error || String(result.status);
      const note = document.createElement("div");
      note.className = "msg-error";
      note.dataset.role = "error";
      note.textContent = errorText(result);
      row.querySelector(".msg-meta").textContent = T.failed;
      row.after(note);
      scrollDown(true);
      return;
    }
    remember(result.data);
    const id = result.data.message_id;
    if (id === null || id === undefined) {
      row.remove(); // `!종료` with nothing open: the channel keeps nothing
      systemLine(T.nothing_to_end, { cls: "system-note" });
    } else if (state.seen.has(`m${id}`)) {
      row.remove(); // the poll showed it already
    } else {
      state.seen.add(`m${id}`);
      row.dataset.key = `m${id}`;
      row.dataset.state = "sent";
      row.querySelector(".msg-meta").textContent = time();
    }
    pollSoon();
  }

  async function sendText(text) {
    if (!text.trim() || !ready()) return false;
    const generation = state.generation;
    const row = messageRow({ mine: true, text, pending: true });
    const result = await post({ ...baseEvent("message"), message: { kind: "text", text } });
    settle(row, result, generation);
    return true;
  }

  async function sendFile(file) {
    if (!ready()) return;
    const generation = state.generation;
    const kind = kindOf(file.name);
    const preview = kind === "image" ? URL.createObjectURL(file) : null;
    const row = messageRow({ mine: true, kind, attachment: { name: file.name, size: file.size }, preview, pending: true });
    const sha256 = hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    const event = { ...baseEvent("message"), message: { kind, file: { name: file.name, size: file.size, sha256 } } };
    settle(row, await post(event, file), generation);
  }

  /** An event without a message (chatbot switch, friend status): a system line says what happened. */
  async function sendSignal(type, doneText) {
    if (!ready()) return false;
    const generation = state.generation;
    const result = await post(baseEvent(type));
    if (generation !== state.generation) return result.ok;
    if (result.ok) {
      remember(result.data);
      systemLine(doneText, { cls: "system-note" });
      pollSoon();
    } else {
      systemLine(errorText(result), { cls: "system-error", error: result.data.error || String(result.status) });
    }
    return result.ok;
  }

  // --- rendering ---------------------------------------------------------------

  function time(iso) {
    const moment = iso ? new Date(iso) : new Date();
    return moment.toLocaleTimeString(LANG, { hour: "numeric", minute: "2-digit" });
  }

  function humanSize(bytes) {
    const units = ["B", "KB", "MB", "GB"];
    let size = bytes;
    let unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit += 1;
    }
    return `${unit ? size.toFixed(1) : size} ${units[unit]}`;
  }

  function nearBottom() {
    return el.chat.scrollHeight - el.chat.scrollTop - el.chat.clientHeight < 80;
  }

  function scrollDown(force) {
    if (force || nearBottom()) el.chat.scrollTop = el.chat.scrollHeight;
  }

  function append(node) {
    const stick = nearBottom();
    el.chat.append(node);
    scrollDown(stick);
  }

  function dayDivider(iso) {
    const moment = iso ? new Date(iso) : new Date();
    const day = moment.toDateString();
    if (day === state.lastDay) return;
    state.lastDay = day;
    const line = document.createElement("div");
    line.className = "day";
    line.textContent = moment.toLocaleDateString(LANG, { year: "numeric", month: "long", day: "numeric", weekday: "long" });
    append(line);
  }

  function systemLine(text, { key, cls = "system", iso, error } = {}) {
    dayDivider(iso);
    const line = document.createElement("div");
    line.className = cls;
    line.dataset.role = "system";
    if (key) line.dataset.key = key;
    if (error) line.dataset.error = error;
    line.textContent = text;
    append(line);
    return line;
  }

  function attachmentCard({ kind, attachment, preview }) {
    const card = document.createElement("div");
    card.className = "attachment";
    if (preview) {
      const image = document.createElement("img");
      image.src = preview;
      image.alt = attachment.name;
      image.className = "attachment-image";
      card.append(image);
    }
    const line = document.createElement("div");
    line.className = "attachment-line";
    const badge = document.createElement("span");
    badge.className = `attachment-kind kind-${kind}`;
    const dot = attachment.name.lastIndexOf(".");
    badge.textContent = dot >= 0 ? attachment.name.slice(dot + 1, dot + 5).toUpperCase() : kind.toUpperCase();
    const name = document.createElement("span");
    name.className = "attachment-name";
    name.textContent = attachment.name;
    const size = document.createElement("span");
    size.className = "attachment-size";
    size.textContent = humanSize(attachment.size);
    line.append(badge, name, size);
    card.append(line);
    return card;
  }

  function messageRow({ mine, text = "", kind = "text", attachment = null, preview = null, author, iso, key, pending }) {
    dayDivider(iso);
    const row = document.createElement("div");
    row.className = mine ? "msg msg-out" : "msg msg-in";
    row.dataset.role = mine ? "outgoing" : "incoming";
    row.dataset.state = pending ? "pending" : "sent";
    if (key) row.dataset.key = key;

    const bubble = document.createElement("div");
    bubble.className = attachment ? "bubble bubble-file" : "bubble";
    if (attachment) {
      bubble.append(attachmentCard({ kind, attachment, preview }));
      if (text) {
        const caption = document.createElement("div");
        caption.textContent = text;
        bubble.append(caption);
      }
    } else {
      bubble.textContent = text;
    }
    const meta = document.createElement("span");
    meta.className = "msg-meta";
    meta.textContent = pending ? "…" : time(iso);

    const line = document.createElement("div");
    line.className = "msg-line";
    if (mine) {
      line.append(meta, bubble);
      row.append(line);
    } else {
      const name = author || T.agent;
      const avatar = document.createElement("div");
      avatar.className = "avatar";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = name.slice(0, 1);
      const column = document.createElement("div");
      column.className = "msg-column";
      const label = document.createElement("div");
      label.className = "msg-author";
      label.textContent = name;
      line.append(bubble, meta);
      column.append(label, line);
      row.append(avatar, column);
    }
    append(row);
    return row;
  }

  function renderItem(item) {
    if (item.type === "closed") {
      systemLine(item.text, { key: item.key, iso: item.created_at });
    } else if (item.sender === "system") {
      systemLine(item.text, { key: item.key, iso: item.created_at });
    } else {
      messageRow({
        mine: item.sender === "customer",
        text: item.text,
        kind: item.kind,
        attachment: item.attachment,
        author: item.author,
        iso: item.created_at,
        key: item.key,
      });
    }
  }

  function showBanner(text, source = "") {
    el.banner.textContent = text;
    el.banner.dataset.source = source;
    el.banner.hidden = false;
  }

  function hideBanner() {
    el.banner.hidden = true;
    el.banner.textContent = "";
    el.banner.dataset.source = "";
  }

  function showCustomer(info) {
    if (!info) {
      el.status.textContent = T.new_customer;
      el.customerId.textContent = "";
      return;
    }
    const parts = [];
    if (info.status_display) parts.push(info.status_display);
    if (info.is_blocked) parts.push(T.blocked);
    el.status.textContent = parts.join(" · ");
    el.customerId.textContent = info.customer_id;
  }

  // --- polling -----------------------------------------------------------------

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, delay);
  }

  function pollSoon() {
    if (state.polling) state.pollAgain = true;
    else schedule(100);
  }

  async function poll() {
    const userKey = customer().userKey;
    if (!userKey) {
      schedule(POLL_MS);
      return;
    }
    state.polling = true;
    const generation = state.generation;
    try {
      const params = new URLSearchParams({ user_key: userKey });
      if (state.afterMessage !== null) params.set("after", state.afterMessage);
      if (state.afterEvent !== null) params.set("after_event", state.afterEvent);
      const response = await fetch(`${MESSAGES_URL}?${params}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (generation !== state.generation) return;
      const data = response.ok && !response.redirected ? await response.json() : null;
      if (generation !== state.generation) return;
      if (!data) {
        showBanner(`${T.poll_failed} (${response.status})`, "poll");
        return;
      }
      if (el.banner.dataset.source === "poll") hideBanner();
      showCustomer(data.customer);
      for (const item of data.items) {
        if (item.type === "closed") state.afterEvent = Math.max(state.afterEvent ?? 0, item.id);
        else state.afterMessage = Math.max(state.afterMessage ?? 0, item.id);
        if (state.seen.has(item.key)) continue;
        state.seen.add(item.key);
        renderItem(item);
      }
      // From now on ask only for what is newer (0: everything, when there was nothing yet).
      state.afterMessage ??= 0;
      state.afterEvent ??= 0;
    } catch {
      if (generation === state.generation) showBanner(T.poll_failed, "poll");
    } finally {
      if (generation === state.generation) {
        state.polling = false;
        const again = state.pollAgain;
        state.pollAgain = false;
        schedule(again ? 100 : POLL_MS);
      }
    }
  }

  /** Start over for another customer: clear the conversation and load theirs. */
  function resetConversation() {
    state.generation += 1;
    state.afterMessage = null;
    state.afterEvent = null;
    state.seen.clear();
    state.lastDay = null;
    state.polling = false;
    state.pollAgain = false;
    el.chat.replaceChildren();
    hideBanner();
    showCustomer(null);
    schedule(0);
  }

  // --- the customer picker -------------------------------------------------------

  function randomKey() {
    const bytes = crypto.getRandomValues ? crypto.getRandomValues(new Uint8Array(3)) : [0, 0, 0];
    return `sim-${hex(bytes)}`;
  }

  function pickCustomer() {
    const option = el.select.selectedOptions[0];
    if (!option || option.value === "") {
      const key = randomKey();
      el.userKey.value = key;
      el.userKey.readOnly = false;
      el.nickname.value = `${NEW_NICKNAME} ${key.slice(4)}`;
      el.friend.checked = true;
    } else {
      el.userKey.value = option.value;
      el.userKey.readOnly = true;
      el.nickname.value = option.dataset.nickname || "";
      el.friend.checked = option.dataset.friend === "1";
    }
    resetConversation();
  }

  /** A new customer's first accepted event created them: list them in the picker, selected. */
  function remember(answer) {
    if (el.select.value !== "" || !answer.customer_id) return;
    const who = customer();
    const option = document.createElement("option");
    option.value = who.userKey;
    option.dataset.nickname = who.nickname;
    option.dataset.friend = who.isFriend ? "1" : "0";
    option.textContent = `${who.nickname || answer.customer_id} · ${who.userKey}`;
    el.select.options[0].after(option);
    el.select.value = who.userKey;
    el.userKey.readOnly = true;
  }

  // --- wiring --------------------------------------------------------------------

  function autoGrow() {
    el.text.style.height = "auto";
    el.text.style.height = `${Math.min(el.text.scrollHeight, 120)}px`;
  }

  async function submitText() {
    const text = el.text.value;
    if (!text.trim()) return;
    el.text.value = "";
    autoGrow();
    const sent = await sendText(text);
    if (!sent) el.text.value = text;
    el.text.focus();
  }

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitText();
  });

  el.text.addEventListener("keydown", (event) => {
    // isComposing: Enter that finishes a Hangul syllable in the IME must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submitText();
    }
  });
  el.text.addEventListener("input", autoGrow);

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !root.contains(button)) return;
    switch (button.dataset.action) {
      case "end":
        sendText("!종료");
        break;
      case "chatbot":
        sendSignal("chatbot_switch", T.chatbot_switched);
        break;
      case "file":
        if (ready()) el.fileInput.click();
        break;
      case "toggle-panel": {
        const open = el.panel.hidden;
        el.panel.hidden = !open;
        button.setAttribute("aria-expanded", String(open));
        break;
      }
      default:
        break;
    }
  });

  el.fileInput.addEventListener("change", () => {
    const file = el.fileInput.files[0];
    el.fileInput.value = "";
    if (file) sendFile(file);
  });

  el.friend.addEventListener("change", async () => {
    const isFriend = el.friend.checked;
    const ok = await sendSignal("friend_status", isFriend ? T.friend_added : T.friend_removed);
    if (!ok) el.friend.checked = !isFriend;
  });

  el.select.addEventListener("change", pickCustomer);
  el.userKey.addEventListener("change", resetConversation);

  if (!window.isSecureContext || !window.crypto || !crypto.subtle) showBanner(T.insecure);
  resetConversation();
})();
