// Script library: copy a filled script, or insert it into the reply box of the page.
// Each use is counted on the server, which also returns the text filled for the ticket.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function replyBox() {
    return document.querySelector("textarea[data-script-target]");
  }

  function use(button) {
    var body = new URLSearchParams();
    body.set("ticket", button.dataset.ticket || "");
    return fetch(button.dataset.useUrl, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken()},
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.statusText); }
      return response.json();
    }).then(function (data) { return data.text; });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    document.body.removeChild(area);
    return Promise.resolve();
  }

  function insert(text) {
    var box = replyBox();
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
    box.dispatchEvent(new Event("input", {bubbles: true}));
    box.focus();
  }

  function done(button) {
    var note = button.parentElement.querySelector("[data-script-done]");
    if (note) {
      note.classList.remove("d-none");
      setTimeout(function () { note.classList.add("d-none"); }, 2000);
    }
  }

  function showInsertButtons() {
    var hasBox = Boolean(replyBox());
    document.querySelectorAll("[data-script-insert]").forEach(function (button) {
      button.classList.toggle("d-none", !hasBox);
    });
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-script-copy]");
    var put = event.target.closest("[data-script-insert]");
    if (copy) {
      use(copy).then(copyText).then(function () { done(copy); });
    } else if (put && replyBox()) {
      use(put).then(insert);
    }
  });
  document.addEventListener("DOMContentLoaded", showInsertButtons);
  document.addEventListener("htmx:afterSwap", showInsertButtons);
})();
