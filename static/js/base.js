/* Behaviours every page shares, kept out of the markup: the Content-Security-Policy allows
   no inline scripts or event handlers. */
(function () {
  "use strict";

  // The language switcher sends its form as soon as a language is picked.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-submit-on-change]") && target.form) {
      target.form.submit();
    }
  });

  // "Go back" buttons on the refusal pages.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-go-back]");
    if (button) {
      history.back();
    }
  });
})();
