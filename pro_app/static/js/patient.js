// A question screen: save the tapped answer at once (a background POST with the page's CSRF token,
// the same rules as Next) and say "saved" only when the server said so; read the question aloud
// with the browser's own voices. Without JavaScript, Next saves and the page says so.
(function () {
  "use strict";

  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var state = form.querySelector(".save-state");

  function show(kind) {
    state.classList.remove("saved", "failed");
    if (kind) { state.classList.add(kind); }
    state.textContent = state.dataset[(kind || "pending") + "Text"];
  }

  if (form.querySelector("input[name=answer]:checked")) { show("saved"); }

  // "Please choose an answer" is answered by the tap itself: it goes at once.
  function clearError() {
    var error = form.querySelector("#answer-error");
    if (error) { error.parentNode.removeChild(error); }
    var fieldset = form.querySelector("fieldset[aria-invalid]");
    if (fieldset) {
      fieldset.removeAttribute("aria-invalid");
      fieldset.removeAttribute("aria-describedby");
    }
  }

  var sent = 0;
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name !== "answer") { return; }
    clearError();
    if (!window.fetch || !window.FormData) { return; }
    var body = new FormData(form);
    body.set("action", "save");
    var mine = sent += 1;
    show(null);
    // Not form.action: the buttons named "action" shadow that property.
    window.fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : { ok: false };
    }).then(function (answer) {
      if (mine !== sent) { return; }
      show(answer && answer.ok && String(answer.saved) === input.value ? "saved" : "failed");
    }).catch(function () {
      if (mine === sent) { show("failed"); }
    });
  });

  var button = form.querySelector("[data-read-aloud]");
  if (button && window.PrimeSpeech) {
    var lang = button.dataset.lang;
    window.PrimeSpeech.whenVoices(function () {
      if (!window.PrimeSpeech.voiceFor(lang)) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var parts = Array.prototype.map.call(form.querySelectorAll("[data-read]"), function (el) {
          return el.textContent.trim();
        }).filter(Boolean);
        window.PrimeSpeech.speak(parts.join(lang.indexOf("zh") === 0 ? "。" : ". "), lang, 0.85);
      });
    });
  }
}());
