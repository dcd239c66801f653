// The composer's one file per message (SPEC §3, §4; templates/console/chat.html#composer): picked with the
// paperclip or dropped on the chat, shown as a chip with its name, size and a remove button. A file the server
// would refuse (file_policy: the allowed extensions, 300 MB) is refused here first, with the server's words, and
// never sent; the server still checks everything. While a file uploads, a progress bar with a cancel button, from
// htmx's own events: htmx:xhr:progress to read it, htmx:abort to cancel it. Texts come from the form's
// data-text-* attributes. No inline handlers; listeners sit on document, so a swapped-in pane needs no binding.
(function () {
  "use strict";
  if (window.counselComposer) { return; }
  window.counselComposer = true;

  var MB = 1024 * 1024;
  var uploads = new WeakMap(); // form → { file, done }: the upload in flight

  function composerIn(root) { return root && root.querySelector ? root.querySelector("form.composer") : null; }
  function fileInput(form) { return form.querySelector(".composer-file-input"); }
  function part(form, name) { return form.querySelector(".composer-" + name); }
  function text(form, name) { return form.getAttribute("data-text-" + name) || ""; }

  function chosen(form) {
    var input = fileInput(form);
    return input && input.files && input.files.length ? input.files[0] : null;
  }

  function say(form, message) {
    var box = part(form, "problem");
    if (!box) { return; }
    box.textContent = message || "";
    box.hidden = !message;
  }

  function megabytes(bytes) { return (bytes / MB).toFixed(1); }

  function size(bytes) {
    return bytes < MB ? (bytes / 1024).toFixed(1) + " KB" : megabytes(bytes) + " MB";
  }

  // As file_policy.extension_of (os.path.splitext): the last extension, lower case; none for ".png" or "a.".
  function extensionOf(name) {
    var bare = name.trim().replace(/^\.+/, "");
    var dot = bare.lastIndexOf(".");
    return dot === -1 ? "" : bare.slice(dot + 1).toLowerCase();
  }

  // The refusal send_message would answer with, or "" for a file it accepts (R13, R14).
  function refusal(form, file) {
    var extension = extensionOf(file.name);
    var accepted = (fileInput(form).getAttribute("accept") || "").split(",");
    if (!extension) { return text(form, "no-extension"); }
    if (accepted.indexOf("." + extension) === -1) { return text(form, "type-refused").replace("__EXT__", extension); }
    if (file.size > Number(form.getAttribute("data-max-bytes"))) { return text(form, "too-large"); }
    return "";
  }

  // The chip shows the file the next send carries, or nothing.
  function showChosen(form) {
    var file = chosen(form);
    part(form, "file").hidden = !file;
    part(form, "progress").hidden = true;
    if (file) {
      part(form, "chip-name").textContent = file.name;
      part(form, "chip-name").title = file.name;
      part(form, "chip-size").textContent = size(file.size);
    }
  }

  function drop(form) {
    fileInput(form).value = "";
    showChosen(form);
  }

  // A file from the picker or from a drop: kept when the server would accept it, else dropped with the reason.
  function take(form, file) {
    var problem = refusal(form, file);
    say(form, problem);
    if (problem) { drop(form); } else { showChosen(form); }
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("form.composer .composer-file-input")) { return; }
    var file = chosen(input.form);
    if (file) { take(input.form, file); } else { say(input.form, ""); showChosen(input.form); }
  });

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) { return; }
    var remove = event.target.closest("form.composer .composer-chip-remove");
    if (remove) {
      var form = remove.form;
      drop(form);
      say(form, "");
      var box = form.querySelector("textarea");
      if (box && !box.disabled) { box.focus(); }
      return;
    }
    var cancel = event.target.closest("form.composer .composer-cancel");
    if (cancel && window.htmx) { window.htmx.trigger(cancel.form, "htmx:abort"); }
  });

  // --- drag and drop onto the chat pane -------------------------------------------------------------------------
  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  // The chat under the pointer and its composer, when that composer can take a file now (R8 disables its input).
  function dropTarget(event) {
    var chat = event.target instanceof Element ? event.target.closest("#chat") : null;
    var form = composerIn(chat);
    var input = form && fileInput(form);
    if (!input || input.disabled || form.classList.contains("htmx-request")) { return null; }
    return { chat: chat, form: form };
  }

  function highlight(chat, on) {
    var overlay = chat.querySelector(".chat-drop");
    if (on && !overlay) {
      overlay = document.createElement("div");
      overlay.className = "chat-drop";
      overlay.textContent = text(composerIn(chat), "drop");
      chat.appendChild(overlay);
    }
    if (overlay) { overlay.hidden = !on; }
  }

  function clearHighlights() {
    document.querySelectorAll(".chat-drop").forEach(function (overlay) { overlay.hidden = true; });
  }

  // Anywhere on the page a dropped file must not replace the console with the file itself.
  document.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) { return; }
    event.preventDefault();
    var target = dropTarget(event);
    event.dataTransfer.dropEffect = target ? "copy" : "none";
    if (target) { highlight(target.chat, true); }
  });

  document.addEventListener("dragleave", function (event) {
    if (!carriesFiles(event)) { return; }
    var chat = event.target instanceof Element ? event.target.closest("#chat") : null;
    var into = event.relatedTarget;
    if (chat && !(into instanceof Node && chat.contains(into))) { highlight(chat, false); }
  });

  document.addEventListener("drop", function (event) {
    if (!carriesFiles(event)) { return; }
    event.preventDefault();
    clearHighlights();
    var target = dropTarget(event);
    if (!target) { return; }
    var files = event.dataTransfer.files;
    if (files.length !== 1) {
      say(target.form, text(target.form, "one-file"));
      return;
    }
    var problem = refusal(target.form, files[0]);
    if (!problem) { fileInput(target.form).files = files; }
    take(target.form, files[0]);
  });

  document.addEventListener("dragend", clearHighlights);

  // --- sending ------------------------------------------------------------------------------------------------
  function isComposer(elt) { return elt instanceof Element && elt.matches("form.composer"); }

  function showProgress(form, loaded, total) {
    var percent = total ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
    part(form, "progress-bar").value = percent;
    part(form, "progress-text").textContent = percent + "% · " + megabytes(loaded) + " / " + megabytes(total) + " MB";
  }

  // The last check before a byte leaves (a file set by a script skips `change`); then the progress bar.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!isComposer(form)) { return; }
    var file = chosen(form);
    var problem = file ? refusal(form, file) : "";
    if (problem) {
      event.preventDefault();
      drop(form);
      say(form, problem);
      return;
    }
    say(form, "");
    if (!file) { return; }
    uploads.set(form, { file: file, done: false });
    showProgress(form, 0, file.size);
    part(form, "progress").hidden = false;
  });

  // The form's values are read by now: the picker is locked until the request ends.
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = event.detail.elt;
    if (isComposer(form) && uploads.has(form)) { fileInput(form).disabled = true; }
  });

  // htmx fires htmx:xhr:progress for the upload, then for the answer's download: only the first is shown, and
  // it ends when the whole body is sent. The body is the file plus its small multipart envelope.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target;
    var upload = isComposer(form) && uploads.get(form);
    var detail = event.detail || {};
    if (!upload || upload.done || !detail.lengthComputable || detail.total < upload.file.size) { return; }
    showProgress(form, detail.loaded, detail.total);
    if (detail.loaded >= detail.total) { upload.done = true; }
  });

  // Sent, refused, failed or cancelled: a successful answer replaces the whole pane; otherwise the file stays
  // chosen, to send again or remove.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!isComposer(form) || !uploads.has(form)) { return; }
    uploads.delete(form);
    fileInput(form).disabled = false;
    part(form, "progress").hidden = true;
  });

  document.addEventListener("htmx:sendAbort", function (event) {
    if (isComposer(event.detail.elt)) { say(event.detail.elt, text(event.detail.elt, "cancelled")); }
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (isComposer(event.detail.elt)) { say(event.detail.elt, text(event.detail.elt, "failed")); }
  });

  // 413: the server's request limit (counsel_center/request_limits.py) refused the body before Django read it.
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (!isComposer(form)) { return; }
    say(form, event.detail.xhr && event.detail.xhr.status === 413 ? text(form, "too-large") : text(form, "failed"));
  });
})();
