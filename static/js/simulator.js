/*
 * Customer simulator (SPEC §7): plays a channel customer against the center's webhook.
 *
 * Every action builds an event, signs `<timestamp>.<event JSON>` with
 * HMAC-SHA256 (WebCrypto) using the center's webhook secret, and POSTs it to
 * the webhook exactly as a channel would: JSON, or multipart with `event` and
 * `file`. The conversation is polled from the simulator's messages endpoint.
 *
 * A file is picked, checked against the seed's table (the server's, from the
 * page's JSON), hashed (SHA-256), then sent with the optional text in the box
 * on 보내기 / Enter, with upload progress (XMLHttpRequest: fetch has none).
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
  // Times as the console shows them: in the center's time zone, whatever the browser's.
  const TIME_ZONE = root.dataset.timeZone || undefined;
  const POLL_MS = 2000;

  // SPEC §4 as the server applies it (file_policy): extension → kind, and the size limit.
  const FILES = JSON.parse(document.getElementById("simulator-file-policy").textContent);
  const MB = 1024 * 1024;

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
    staged: role("staged"),
    stagedKind: role("staged-kind"),
    stagedName: role("staged-name"),
    stagedSize: role("staged-size"),
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
    staged: null, // the file picked for the next message
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

  /**
   * POST one signed event, with `file` as multipart; resolves to {ok, status, data}, status 0 when the
   * webhook was not reached. `onProgress(fraction)` follows a file's upload.
   */
  async function post(event, file, onProgress) {
    const jsonText = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      "X-Channel-Timestamp": timestamp,
      "X-Channel-Signature": await sign(timestamp, jsonText),
    };
    if (file) return upload(jsonText, headers, file, onProgress);
    headers["Content-Type"] = "application/json";
    try {
      const response = await fetch(WEBHOOK_URL, {
        method: "POST",
        headers,
        body: jsonText,
        credentials: "omit",
        cache: "no-store",
      });
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

  /** The multipart request, by XMLHttpRequest for its upload progress (same-origin: it carries the session
   * cookie, which the webhook ignores). */
  function upload(jsonText, headers, file, onProgress) {
    // The `event` field is exactly the signed text; the browser sets the multipart boundary.
    const body = new FormData();
    body.append("event", jsonText);
    body.append("file", file, file.name);
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      request.open("POST", WEBHOOK_URL);
      for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
      request.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable && progress.total > 0) onProgress?.(progress.loaded / progress.total);
      });
      request.addEventListener("load", () => {
        let data = null;
        try {
          data = JSON.parse(request.responseText);
        } catch {
          data = null;
        }
        const ok = request.status >= 200 && request.status < 300;
        resolve({ ok, status: request.status, data: data && typeof data === "object" ? data : {} });
      });
      for (const failure of ["error", "abort", "timeout"]) {
        request.addEventListener(failure, () => resolve({ ok: false, status: 0, data: {} }));
      }
      request.send(body);
    });
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

  /** The last extension, lower case, as file_policy.extension_of reads it: "" for "a", "a." and ".png". */
  function extensionOf(name) {
    const stem = name.replace(/^\.+/, "");
    const dot = stem.lastIndexOf(".");
    return dot >= 0 ? stem.slice(dot + 1).toLowerCase() : "";
  }

  function kindOf(name) {
    const extension = extensionOf(name);
    return Object.hasOwn(FILES.categories, extension) ? FILES.categories[extension] : "file";
  }

  /** Why the webhook would refuse `file` (its type, its size), or null: checked before reading it. */
  function refusalOf(file) {
    const extension = extensionOf(file.name);
    if (!extension) return { error: "file_type_not_allowed", text: T.no_extension };
    if (!Object.hasOwn(FILES.categories, extension)) {
      return { error: "file_type_not_allowed", text: T.type_not_allowed.replace("{extension}", () => extension) };
    }
    if (file.size > FILES.max_bytes) return { error: "too_large", text: T.too_large };
    return null;
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

  /** Mark the bubble `row` as not sent, with the reason under it. */
  function markFailed(row, error, text) {
    row.dataset.state = "failed";
    row.dataset.error = error;
    const note = document.createElement("div");
    note.className = "msg-error";
    note.dataset.role = "error";
    note.textContent = text;
    row.querySelector(".msg-meta").textContent = T.failed;
    row.after(note);
    scrollDown(true);
  }

  /** After the webhook answered a message event for `row` (the bubble shown while sending). */
  function settle(row, result, generation) {
    if (generation !== state.generation) return;
    if (!result.ok) {
      markFailed(row, result.data.error || String(result.status), errorText(result));
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

  /** One file, with `text` when there is some: hashed, signed and uploaded with its progress in the bubble. */
  async function sendFile(file, text) {
    if (!ready()) return false;
    const generation = state.generation;
    const kind = kindOf(file.name);
    const preview = kind === "image" ? URL.createObjectURL(file) : null;
    const attachment = { name: file.name, size: file.size };
    const row = messageRow({ mine: true, text, kind, attachment, preview, pending: true });
    const progress = uploadProgress(row, file.size);
    let sha256;
    try {
      sha256 = hex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
    } catch {
      progress.remove();
      if (generation === state.generation) markFailed(row, "read_failed", T.read_failed);
      return true;
    }
    progress.update(0);
    const message = { kind, file: { name: file.name, size: file.size, sha256 } };
    if (text.trim()) message.text = text;
    const result = await post({ ...baseEvent("message"), message }, file, progress.update);
    progress.remove();
    settle(row, result, generation);
    return true;
  }

  /** A file the webhook would refuse: shown as a message not sent, with the reason; nothing is sent. */
  function refuseFile(file, refusal) {
    const attachment = { name: file.name, size: file.size };
    const row = messageRow({ mine: true, kind: kindOf(file.name), attachment, pending: true });
    markFailed(row, refusal.error, refusal.text);
  }

  /** Hold the picked file for the next message (one per message), or refuse it at once. */
  function stage(file) {
    const refusal = refusalOf(file);
    if (refusal) {
      unstage();
      refuseFile(file, refusal);
      return;
    }
    const kind = kindOf(file.name);
    state.staged = file;
    el.stagedKind.className = `attachment-kind kind-${kind}`;
    el.stagedKind.textContent = badgeText(file.name, kind);
    el.stagedName.textContent = file.name;
    el.stagedName.title = file.name;
    el.stagedSize.textContent = humanSize(file.size);
    const stick = nearBottom();
    el.staged.hidden = false; // the chat gets shorter: keep its newest message in view
    scrollDown(stick);
    el.text.focus();
  }

  function unstage() {
    state.staged = null;
    el.staged.hidden = true;
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
    return moment.toLocaleTimeString(LANG, { hour: "numeric", minute: "2-digit", timeZone: TIME_ZONE });
  }

  function megabytes(bytes) {
    return (bytes / MB).toFixed(1);
  }

  /** The upload's progress in a sending bubble: "SHA-256…" while hashing, then percent and MB. */
  function uploadProgress(row, bytes) {
    const box = document.createElement("div");
    box.className = "upload";
    box.dataset.role = "progress";
    const bar = document.createElement("progress");
    bar.className = "upload-bar";
    bar.max = 100; // without a value: indeterminate while the file is hashed
    const label = document.createElement("span");
    label.className = "upload-text";
    label.textContent = "SHA-256…";
    box.append(bar, label);
    row.querySelector(".bubble").append(box);
    return {
      update(fraction) {
        const percent = Math.min(100, Math.floor(fraction * 100));
        bar.value = percent;
        box.dataset.percent = String(percent);
        label.textContent = `${percent}% · ${megabytes(Math.min(fraction, 1) * bytes)} / ${megabytes(bytes)} MB`;
      },
      remove() {
        box.remove();
      },
    };
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
    const options = { year: "numeric", month: "long", day: "numeric", weekday: "long", timeZone: TIME_ZONE };
    const day = moment.toLocaleDateString(LANG, options);  // the center's calendar day
    if (day === state.lastDay) return;
    state.lastDay = day;
    const line = document.createElement("div");
    line.className = "day";
    line.textContent = day;
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

  function badgeText(name, kind) {
    const extension = extensionOf(name);
    return (extension ? extension.slice(0, 4) : kind).toUpperCase();
  }

  /**
   * A file in a bubble. An image shows itself (its thumbnail once the task made it, the image until then, or
   * the picked file while sending) and opens in a new tab; any other file is a card with a download link.
   */
  function attachmentCard({ kind, attachment, preview }) {
    const card = document.createElement("div");
    card.className = "attachment";
    card.dataset.role = "attachment";
    card.dataset.kind = kind;
    const source = preview || attachment.thumbnail_url || (kind === "image" ? attachment.url : null);
    if (kind === "image" && source) {
      card.classList.add("attachment-pictured");
      const image = document.createElement("img");
      image.className = "attachment-image";
      image.alt = attachment.name;
      image.src = source;
      if (preview) image.addEventListener("load", () => URL.revokeObjectURL(preview), { once: true });
      if (attachment.url) {
        const open = document.createElement("a");
        open.className = "attachment-open";
        open.href = attachment.url;
        open.target = "_blank";
        open.rel = "noopener";
        open.title = T.open_image;
        open.append(image);
        card.append(open);
      } else {
        card.append(image);
      }
    }
    // A picture speaks for itself, as in KakaoTalk: its name is its alt text. Anything else is a card.
    if (!card.classList.contains("attachment-pictured")) card.append(fileLine(kind, attachment));
    if (kind === "audio") {
      const note = document.createElement("div");
      note.className = "attachment-note";
      note.textContent = T.audio_only;
      card.append(note);
    }
    if (attachment.url && kind !== "image") {
      const download = document.createElement("a");
      download.className = "attachment-download";
      download.dataset.role = "download";
      download.href = `${attachment.url}?download=1`;
      download.textContent = T.download;
      download.setAttribute("aria-label", T.download_named.replace("%(name)s", () => attachment.name));
      card.append(download);
    }
    return card;
  }

  /** A file's badge (its extension), name and size. */
  function fileLine(kind, attachment) {
    const line = document.createElement("div");
    line.className = "attachment-line";
    const badge = document.createElement("span");
    badge.className = `attachment-kind kind-${kind}`;
    badge.textContent = badgeText(attachment.name, kind);
    const info = document.createElement("div");
    info.className = "attachment-info";
    const name = document.createElement("span");
    name.className = "attachment-name";
    name.textContent = attachment.name;
    name.title = attachment.name;
    const size = document.createElement("span");
    size.className = "attachment-size";
    size.textContent = humanSize(attachment.size);
    info.append(name, size);
    line.append(badge, info);
    return line;
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
      // The text first, then the file, as the console shows a message (its download link ends the bubble).
      if (text) {
        const caption = document.createElement("div");
        caption.className = "msg-caption";
        caption.textContent = text;
        bubble.append(caption);
      }
      bubble.append(attachmentCard({ kind, attachment, preview }));
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
    // An image grows the row when it arrives: stay at the newest message if the chat was there.
    for (const image of row.querySelectorAll("img")) {
      const before = image.offsetHeight;
      image.addEventListener(
        "load",
        () => {
          const gap = el.chat.scrollHeight - el.chat.scrollTop - el.chat.clientHeight;
          if (gap - (image.offsetHeight - before) < 80) scrollDown(true);
        },
        { once: true },
      );
    }
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
        kind: item.attachment?.kind || item.kind,
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
    unstage();
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

  /** Send what the composer holds: the picked file with the text as its caption, or the text alone. */
  async function submit() {
    const text = el.text.value;
    const file = state.staged;
    if (!file && !text.trim()) return;
    el.text.value = "";
    autoGrow();
    if (file) unstage();
    const sent = file ? await sendFile(file, text) : await sendText(text);
    if (!sent) {
      el.text.value = text;
      autoGrow();
      if (file) stage(file);
    }
    el.text.focus();
  }

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  el.text.addEventListener("keydown", (event) => {
    // isComposing: Enter that finishes a Hangul syllable in the IME must not send.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
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
      case "unstage":
        unstage();
        el.text.focus();
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
    if (file) stage(file);
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
