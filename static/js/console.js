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
    } else if (target.matches("[data-script-template]")) {
      var chosen = target.options[target.selectedIndex];
      var body = document.getElementById("id_body");
      if (chosen && chosen.dataset.text && body) {
        body.value = chosen.dataset.text;
        document.getElementById("id_script_template_used").value = target.value;
        body.focus();
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-type-select]");
    if (select) { markRequired(select); }
  });
})();
