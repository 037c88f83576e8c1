// Optional helpers for staff pages (copy a link, print the slip, choose its size, send a form once).
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

  // One tap, one request: a form already sent ignores another tap (a double click, a second
  // press on a slow clinic network) until its page comes. The server would merge or refuse the
  // second one, but the coordinator would read "this visit already has a link" instead of the
  // page they asked for. After 15 s (a stopped or stalled load) the form can be sent again, and
  // a page the Back button shows from the browser's cache is usable at once.
  var AGAIN_AFTER_MS = 15000;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") {
      return;
    }
    var sent = Number(form.dataset.sentAt || 0);
    if (sent && Date.now() - sent < AGAIN_AFTER_MS) {
      event.preventDefault();
      return;
    }
    form.dataset.sentAt = String(Date.now());
    form.setAttribute("aria-busy", "true");
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent-at]").forEach(function (form) {
      delete form.dataset.sentAt;
      form.removeAttribute("aria-busy");
    });
  });

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
