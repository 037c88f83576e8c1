// Speaking with the browser's own speech synthesis (no outside service), shared by the read-aloud
// button of the questions and the walk timer. The read-aloud button shows only when the browser
// lists a voice of the page's language.
(function () {
  "use strict";

  function supported() {
    return "speechSynthesis" in window && typeof window.SpeechSynthesisUtterance === "function";
  }

  // "zh-CN" matches voices "zh-CN", "zh_CN", "cmn-Hans-CN"; "en" matches any English voice.
  function matches(voice, lang) {
    var want = lang.toLowerCase().replace("_", "-");
    var have = String(voice.lang || "").toLowerCase().replace("_", "-");
    if (want.indexOf("zh") === 0) {
      return have.indexOf("zh") === 0 || have.indexOf("cmn") === 0;
    }
    return have === want || have.indexOf(want.split("-")[0] + "-") === 0 || have === want.split("-")[0];
  }

  function voiceFor(lang) {
    if (!supported()) { return null; }
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i += 1) {
      if (matches(voices[i], lang)) { return voices[i]; }
    }
    return null;
  }

  // Calls back once voices are known (some browsers load them a moment after the page).
  function whenVoices(callback) {
    if (!supported()) { callback(); return; }
    if ((window.speechSynthesis.getVoices() || []).length) { callback(); return; }
    var done = false;
    var once = function () { if (!done) { done = true; callback(); } };
    if (typeof window.speechSynthesis.addEventListener === "function") {
      window.speechSynthesis.addEventListener("voiceschanged", once);
    }
    window.setTimeout(once, 1500);
  }

  // Speaks with a voice of `lang` when one is listed, else lets the browser pick by `lang`.
  function speak(text, lang, rate) {
    if (!supported()) { return false; }
    var voice = voiceFor(lang);
    var utterance = new window.SpeechSynthesisUtterance(text);
    utterance.lang = lang;
    if (voice) { utterance.voice = voice; }
    utterance.rate = rate || 0.9;
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
    return true;
  }

  window.PrimeSpeech = { supported: supported, voiceFor: voiceFor, whenVoices: whenVoices, speak: speak };
}());
