// Optional helpers for staff pages (copy a link, print the slip, choose its size).
// Every page works without this file; it only adds buttons that would be useless without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function copy(input, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { fallback(input, done); });
    } else {
      fallback(input, done);
    }
  }

  function fallback(input, done) {
    input.focus();
    input.select();
    try {
      if (document.execCommand("copy")) { done(); }
    } catch (ignored) { /* the text stays selected for Ctrl+C */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.querySelector(".copy-status");
      if (!input) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        copy(input, function () {
          if (status) { status.textContent = button.getAttribute("data-done"); }
        });
      });
    });

    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });

    var slip = document.getElementById("slip");
    document.querySelectorAll(".slip-size").forEach(function (fieldset) {
      fieldset.hidden = false;
      fieldset.addEventListener("change", function (event) {
        if (slip && event.target.name === "slip-size") {
          slip.classList.toggle("a5", event.target.value === "a5");
        }
      });
    });
  });
}());
