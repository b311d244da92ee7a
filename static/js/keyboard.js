/* Keyboard shortcuts of the console (the "?" key lists them: desk/console/_shortcuts.html).

   Queues: j/k (or the arrow keys) move between rows, Enter or o opens one.
   Ticket: j/] and k/[ go to the next and previous ticket of the queue the agent came from,
   r and n start a reply or an internal note, Ctrl+Enter (⌘+Enter) sends, Ctrl+Shift+Enter
   sends and sets the status. Everywhere: / focuses the page's search, ? shows the list.
   Letter keys never fire while the agent types in a field; the Ctrl/⌘ ones do.
   The script picker's search box is a combobox: type to filter, arrows and Enter to pick.
   Kept out of the markup: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function isTyping(target) {
    return Boolean(target && target.closest &&
                   target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  function click(selector) {
    var element = document.querySelector(selector);
    if (element) { element.click(); }
    return Boolean(element);
  }

  // --- the reply form ----------------------------------------------------------------------
  function send(form, withStatus) {
    if (form.classList.contains("htmx-request")) { return; }  // already on its way
    var then = form.querySelector("select[name=then]");
    if (withStatus && then && !then.value) { then.value = "wait_for_customer"; }
    var button = form.querySelector("[data-send]");
    if (form.requestSubmit) { form.requestSubmit(button || undefined); } else if (button) { button.click(); }
  }

  function startWriting(kind) {
    var form = document.getElementById("reply-form");
    if (!form) { return false; }
    var radio = form.querySelector("input[name=kind][value=" + kind + "]");
    if (radio) { radio.checked = true; }
    var body = form.querySelector("textarea[name=body]");
    if (body) { body.focus(); }
    return true;
  }

  // --- queue rows --------------------------------------------------------------------------
  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tbody tr[data-href]"));
  }

  function currentRow(rows) {
    var index = rows.findIndex(function (row) { return row.classList.contains("keyboard-current"); });
    return index;
  }

  function moveRow(step) {
    var rows = queueRows();
    if (!rows.length) { return false; }
    var index = currentRow(rows);
    var next = index === -1 ? (step > 0 ? 0 : rows.length - 1)
                            : Math.min(Math.max(index + step, 0), rows.length - 1);
    rows.forEach(function (row) { row.classList.remove("keyboard-current", "table-active"); });
    var row = rows[next];
    row.classList.add("keyboard-current", "table-active");
    var link = row.querySelector("a[href]");
    if (link) { link.focus(); } else { row.scrollIntoView({block: "nearest"}); }
    return true;
  }

  function openRow() {
    var rows = queueRows();
    var index = currentRow(rows);
    if (index === -1) { return false; }
    window.location.assign(rows[index].dataset.href);
    return true;
  }

  // --- shortcuts overlay -------------------------------------------------------------------
  function showHelp() {
    var dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || dialog.open) { return false; }
    dialog.showModal();  // a modal dialog: focus moves in, Esc closes it and focus returns
    return true;
  }

  function focusSearch() {
    var field = document.querySelector("[data-search-field]:not([disabled])") ||
                document.querySelector("main input[type=search]:not([disabled])");
    if (!field) { return false; }
    field.focus();
    if (field.select) { field.select(); }
    return true;
  }

  var inQueue = function () { return document.getElementById("queue-rows") !== null; };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) { return; }
    var key = event.key;
    var modifier = event.ctrlKey || event.metaKey;
    if (modifier && key === "Enter") {
      var form = document.getElementById("reply-form");
      if (form && (form.contains(event.target) || !isTyping(event.target))) {
        event.preventDefault();
        send(form, event.shiftKey);
      }
      return;
    }
    if (modifier || event.altKey || isTyping(event.target)) { return; }
    var dialog = document.getElementById("shortcuts-dialog");
    if (dialog && dialog.open) { return; }
    var done = false;
    if (key === "?") {
      done = showHelp();
    } else if (key === "/") {
      done = focusSearch();
    } else if (inQueue()) {
      if (key === "j" || key === "ArrowDown") { done = moveRow(1); }
      else if (key === "k" || key === "ArrowUp") { done = moveRow(-1); }
      else if (key === "o" || (key === "Enter" && !event.target.closest("a, button"))) { done = openRow(); }
    } else if (document.getElementById("workspace")) {
      if (key === "j" || key === "]") { done = click("[data-shortcut=next-ticket]"); }
      else if (key === "k" || key === "[") { done = click("[data-shortcut=previous-ticket]"); }
      else if (key === "r") { done = startWriting("reply"); }
      else if (key === "n") { done = startWriting("note"); }
    }
    if (done) { event.preventDefault(); }
  });

  // --- Enter in an htmx search box runs the search, never submits the form around it -------
  // (the phone intake's customer search: a half-filled form would answer with six errors).
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || event.isComposing || !target.matches ||
        !target.matches("input[type=search][hx-get]") || !target.form) { return; }
    event.preventDefault();
    if (window.htmx) { window.htmx.trigger(target, "search"); }
  });

  // --- the script picker -------------------------------------------------------------------
  var OPTIONS = "[role=option]:not([data-no-match])";

  function pickerParts(element) {
    var box = element.closest("[data-script-picker]");
    if (!box) { return null; }
    return {box: box, input: box.querySelector("[data-script-search]"),
            list: box.querySelector("[role=listbox]")};
  }

  function visibleOptions(parts) {
    return Array.prototype.slice.call(parts.list.querySelectorAll(OPTIONS))
      .filter(function (option) { return !option.hidden; });
  }

  function setActive(parts, option) {
    parts.list.querySelectorAll(OPTIONS).forEach(function (each) {
      each.classList.remove("active");
      each.setAttribute("aria-selected", "false");
    });
    if (option) {
      option.classList.add("active");
      option.setAttribute("aria-selected", "true");
      parts.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    } else {
      parts.input.removeAttribute("aria-activedescendant");
    }
  }

  function openList(parts, open) {
    parts.list.hidden = !open;
    parts.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { setActive(parts, null); }
  }

  function filter(parts) {
    var words = parts.input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var options = parts.list.querySelectorAll(OPTIONS);
    var shown = 0;
    options.forEach(function (option) {
      var text = option.dataset.search || "";
      option.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
      if (!option.hidden) { shown += 1; }
    });
    var none = parts.list.querySelector("[data-no-match]");
    if (none) { none.hidden = shown > 0; }
    openList(parts, true);
    setActive(parts, visibleOptions(parts)[0] || null);
  }

  function pick(parts, option) {
    var body = document.getElementById("id_body");
    var used = document.getElementById("id_script_template_used");
    if (!option || !body) { return; }
    // Into the text where the cursor was: what the agent already wrote stays.
    var start = body.selectionStart, end = body.selectionEnd, text = option.dataset.text;
    if (typeof start !== "number") { start = end = body.value.length; }
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    if (used) { used.value = option.dataset.scriptId; }
    parts.input.value = "";
    openList(parts, false);
    body.focus();
    body.setSelectionRange(start + text.length, start + text.length);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-script-search]")) {
      filter(pickerParts(event.target));
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-script-search]")) {
      filter(pickerParts(event.target));
    }
  });

  document.addEventListener("focusout", function (event) {
    if (!event.target.matches || !event.target.matches("[data-script-search]")) { return; }
    var parts = pickerParts(event.target);
    // Later, so that a click on an option lands before the list closes.
    window.setTimeout(function () {
      if (!parts.box.contains(document.activeElement)) { openList(parts, false); }
    }, 150);
  });

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("[data-script-search]") ||
        event.isComposing || event.ctrlKey || event.metaKey) { return; }
    var parts = pickerParts(event.target);
    var options = visibleOptions(parts);
    var index = options.findIndex(function (option) { return option.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (parts.list.hidden) { filter(parts); return; }
      var step = event.key === "ArrowDown" ? 1 : -1;
      setActive(parts, options[Math.min(Math.max(index + step, 0), options.length - 1)] || null);
    } else if (event.key === "Enter") {
      event.preventDefault();  // picking a script never sends the reply
      pick(parts, options[index]);
    } else if (event.key === "Escape" && !parts.list.hidden) {
      event.preventDefault();
      openList(parts, false);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("[data-script-picker] " + OPTIONS);
    if (option) {
      event.preventDefault();  // keep the focus in the search box until the pick is made
      pick(pickerParts(option), option);
    }
  });
})();
