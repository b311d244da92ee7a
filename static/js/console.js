/* Small behaviours of the agent console; the pages work without them. */
(function () {
  "use strict";

  function markRequired(select) {
    var option = select.options[select.selectedIndex];
    var required = (option && option.dataset.required || "").split(",");
    document.querySelectorAll("#type-hints li").forEach(function (li) {
      li.hidden = li.dataset.type !== select.value;
    });
    document.querySelectorAll("[data-field]").forEach(function (box) {
      var mark = box.querySelector(".required-mark");
      if (mark && !mark.hasAttribute("data-always")) {
        mark.hidden = required.indexOf(box.dataset.field) === -1;
      }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      var table = target.closest("table");
      table.querySelectorAll("input[name=ticket]").forEach(function (box) {
        box.checked = target.checked;
      });
    } else if (target.matches("[data-type-select]")) {
      markRequired(target);
    } else if (target.matches("input[name=order_number][data-customer]")) {
      var field = document.getElementById("id_order_number");
      if (field) { field.value = target.value; }
      var customer = document.getElementById("customer-" + target.dataset.customer);
      if (customer) { customer.checked = true; }
    } else if (target.form && target.form.hasAttribute("data-apply-on-change")) {
      // A queue filter applies as soon as it changes; the Apply button is for no-JS.
      var page = target.form.querySelector("input[name=page]");
      if (page) { page.value = ""; }
      if (target.form.requestSubmit) { target.form.requestSubmit(); } else { target.form.submit(); }
    }
  });

  // A queue row opens its ticket wherever it is clicked, except on its own controls (the
  // number's link, the bulk checkbox) and when text is being selected. Ctrl/Cmd or the
  // middle button opens it in a new tab, as a link would.
  function openRow(event) {
    var row = event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea, label")) { return; }
    if (event.type === "click" && event.button !== 0) { return; }
    if (event.type === "auxclick" && event.button !== 1) { return; }
    var selection = window.getSelection && window.getSelection();
    if (selection && selection.toString() && row.contains(selection.anchorNode)) { return; }
    if (event.ctrlKey || event.metaKey || event.type === "auxclick") {
      window.open(row.dataset.href, "_blank", "noopener");
    } else {
      window.location.assign(row.dataset.href);
    }
  }
  document.addEventListener("click", openRow);
  document.addEventListener("auxclick", openRow);

  // SLA countdowns: the server renders each badge; this keeps its time left current.
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, name) {
      return String(values[name]);
    });
  }

  function span(texts, seconds) {
    seconds = Math.abs(Math.floor(seconds));
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    if (days) { return fill(texts.days, {days: days, hours: hours}); }
    if (hours) { return fill(texts.hours, {hours: hours, minutes: minutes}); }
    return fill(texts.minutes, {minutes: minutes});
  }

  function tick() {
    var source = document.getElementById("sla-texts");
    if (!source) { return; }
    var texts = JSON.parse(source.textContent);
    document.querySelectorAll(".sla-badge[data-due]").forEach(function (badge) {
      var left = (Date.parse(badge.dataset.due) - Date.now()) / 1000;
      if (isNaN(left)) { return; }
      var css = left < 0 ? "danger" : (left < texts.soon ? "warning" : "success");
      var text = badge.querySelector(".sla-left");
      if (text) { text.textContent = fill(left < 0 ? texts.overdue : texts.left, {span: span(texts, left)}); }
      badge.classList.remove("text-bg-danger", "text-bg-warning", "text-bg-success");
      badge.classList.add("text-bg-" + css);
      badge.dataset.sla = css;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-type-select]");
    if (select) { markRequired(select); }
    tick();
    window.setInterval(tick, 30000);
  });
  // htmx swaps in a fresh workspace; its badges are current already, the interval goes on.
})();
