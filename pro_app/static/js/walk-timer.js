// The 6-minute walk timer: a countdown, a lap counter, the ATS encouragement at each minute, pauses
// that keep the clock running, and a result that survives a dropped network or a reload: it lives in
// localStorage until the server has it. Times come from Date.now(), so a sleeping tab loses nothing.
(function () {
  "use strict";

  var root = document.getElementById("walk-timer");
  if (!root) { return; }
  root.hidden = false;
  document.getElementById("timer-needs-js").hidden = true;

  var DURATION = Number(root.dataset.duration);
  var STORE = "prime-6mwt:" + root.dataset.scope;
  var SPEAK_KEY = "prime-6mwt:speak";
  var phrases = JSON.parse(root.dataset.phrases);
  var lapLength = root.dataset.lapLength ? Number(root.dataset.lapLength) : null;
  var msg = root.dataset;

  var el = function (id) { return document.getElementById(id); };
  var intro = el("timer-intro");
  var controls = el("timer-controls");
  var clock = el("timer-clock");
  var clockLabel = el("timer-clock-label");
  var stateText = el("timer-state");
  var phraseBox = el("timer-phrase");
  var startButton = el("timer-start");
  var lapButton = el("timer-lap");
  var lapCount = el("timer-lap-count");
  var lapDistance = el("timer-lap-distance");
  var pauseButton = el("timer-pause");
  var undoButton = el("timer-undo");
  var endButton = el("timer-end");
  var restartButton = el("timer-restart");
  var form = el("timer-end-form");
  var partial = el("timer-partial");
  var partialError = el("timer-partial-error");
  var status = el("timer-status");
  var speak = el("timer-speak");
  var replaceButton = el("timer-replace");

  var wakeLock = null;
  var armed = null; // the button waiting for its confirming second tap
  var sending = false;

  function fresh() {
    return {
      status: "ready", runId: null, startedAt: null, laps: [], pauses: [], endedAt: null,
      endedEarly: false, partial: "", cue: -1, pending: false, lang: null,
      walkVersion: root.dataset.walkVersion, replace: false, conflict: false
    };
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE) || "null");
      return saved && saved.status ? saved : null;
    } catch (e) { return null; }
  }

  function save() {
    try { window.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }

  function clear() {
    try { window.localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
  }

  var state = load() || fresh();

  function tenth(seconds) { return Math.round(seconds * 10) / 10; }

  function elapsed() {
    if (state.status === "running") { return Math.min(DURATION, (Date.now() - state.startedAt) / 1000); }
    if (state.status === "ended") { return state.endedAt; }
    return 0;
  }

  function mmss(seconds) {
    var whole = Math.max(0, Math.ceil(seconds - 1e-9));
    var m = Math.floor(whole / 60);
    var s = whole % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function language() {
    var chosen = document.querySelector("input[name=phrase-lang]:checked");
    return chosen ? chosen.value : msg.patientLang;
  }

  function paused() {
    var last = state.pauses[state.pauses.length - 1];
    return Boolean(last) && last[1] === null;
  }

  function say(text) {
    phraseBox.textContent = text;
    phraseBox.lang = language() === "en" ? "en" : "zh-Hans";
    if (speak.checked && window.PrimeSpeech) {
      window.PrimeSpeech.speak(text, phrases[language()].speech, 0.9);
    }
  }

  // Show (and say) the phrase whose minute has come. After a reload only the latest one is shown,
  // and it is said aloud only if it is fresh, so the patient never hears a stale phrase.
  function cue(now) {
    var list = phrases[language()].phrases;
    var due = -1;
    for (var i = 0; i < list.length; i += 1) { if (now >= list[i].at) { due = i; } }
    if (due > state.cue) {
      state.cue = due;
      save();
      if (now - list[due].at < 5) { say(list[due].text); } else { phraseBox.textContent = list[due].text; }
    }
  }

  function acquireWakeLock() {
    if (!("wakeLock" in navigator) || wakeLock) { return; }
    navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      lock.addEventListener("release", function () { wakeLock = null; });
    }).catch(function () { /* refused (battery saver): the page still works */ });
  }

  function releaseWakeLock() {
    if (wakeLock) { wakeLock.release().catch(function () {}); wakeLock = null; }
  }

  function newRunId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function start() {
    state = fresh();
    state.status = "running";
    state.runId = newRunId();
    state.startedAt = Date.now();
    state.lang = language();
    save();
    acquireWakeLock();
    phraseBox.textContent = "";
    render();
  }

  function end(early) {
    if (state.status !== "running") { return; }
    var now = early ? tenth(elapsed()) : DURATION;
    var last = state.pauses[state.pauses.length - 1];
    if (last && last[1] === null) { last[1] = now; }
    state.status = "ended";
    state.endedAt = now;
    state.endedEarly = early;
    if (early) { phraseBox.textContent = ""; }
    save();
    releaseWakeLock();
    render();
    partial.focus();
  }

  function lap() {
    if (state.status !== "running") { return; }
    state.laps.push(tenth(elapsed()));
    save();
    if (navigator.vibrate) { navigator.vibrate(40); }
    render();
  }

  function undoLap() {
    if (state.status === "running" && state.laps.length) { state.laps.pop(); save(); render(); }
  }

  function togglePause() {
    if (state.status !== "running") { return; }
    var now = tenth(elapsed());
    if (paused()) {
      state.pauses[state.pauses.length - 1][1] = now;
      phraseBox.textContent = "";
    } else {
      state.pauses.push([now, null]);
      say(phrases[language()].pause);
    }
    save();
    render();
  }

  // A second tap within 4 seconds confirms a step that cannot be undone.
  function twoTaps(button, confirmText, action) {
    var original = button.textContent;
    button.addEventListener("click", function () {
      if (armed === button) {
        armed = null;
        button.textContent = original;
        action();
        return;
      }
      armed = button;
      button.textContent = confirmText;
      window.setTimeout(function () {
        if (armed === button) { armed = null; button.textContent = original; }
      }, 4000);
    });
  }

  function fillForm() {
    form.elements.run_id.value = state.runId;
    form.elements.laps.value = String(state.laps.length);
    form.elements.lap_times.value = JSON.stringify(state.laps);
    form.elements.pauses.value = JSON.stringify(state.pauses);
    form.elements.elapsed_s.value = String(state.endedAt);
    form.elements.ended_early.value = state.endedEarly ? "1" : "0";
    form.elements.partial_lap_m.value = state.partial;
    form.elements.walk_version.value = state.walkVersion || "";
    form.elements.replace.value = state.replace ? "1" : "";
  }

  // A problem (offline, changed elsewhere, submitted, session ended) shows as a warning, not in
  // the blue of links.
  function showStatus(text, problem) {
    status.textContent = text;
    status.classList.toggle("problem", Boolean(problem && text));
  }

  function send() {
    if (sending || !state.pending) { return; }
    sending = true;
    fillForm();
    showStatus(msg.msgSending);
    fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      return (json ? response.json() : Promise.resolve(null)).then(function (body) {
        sending = false;
        if (body && body.ok) {
          state.pending = false;
          state.status = "sent";
          save();
          showStatus(msg.msgSaved);
          window.location.assign(body.next);
        } else if (body && body.conflict) {
          // Someone typed the walk part elsewhere: never overwrite it without a yes.
          state.pending = false;
          state.conflict = true;
          save();
          showStatus(msg.msgConflict, true);
          render();
        } else if (body && body.submitted) {
          clear();
          state = fresh();
          render();
          showStatus(msg.msgSubmitted, true);
        } else if (body && body.errors) {
          state.pending = false;
          save();
          var first = Object.keys(body.errors).map(function (k) { return body.errors[k]; })[0];
          partialError.textContent = first;
          partialError.hidden = false;
          showStatus("");
          partial.focus();
        } else {
          showStatus(msg.msgSession, true);
        }
      });
    }).catch(function () {
      sending = false;
      showStatus(msg.msgOffline, true);
    });
  }

  // The state in phrases, each ending at its colon ("已提前结束：" "共步行1:01"), which move to the
  // next line whole; a phrase wider than the line still wraps inside itself.
  function showState(text) {
    if (stateText.getAttribute("data-text") === text) { return; }
    stateText.setAttribute("data-text", text);
    stateText.textContent = "";
    var parts = text.split(/(：|: )/);
    for (var i = 0; i < parts.length; i += 2) {
      var phrase = document.createElement("span");
      phrase.className = "phrase";
      phrase.textContent = parts[i] + (parts[i + 1] || "").trim();
      stateText.appendChild(phrase);
      if (parts[i + 1] === ": ") { stateText.appendChild(document.createTextNode(" ")); }
    }
  }

  function render() {
    var now = elapsed();
    var running = state.status === "running";
    var ended = state.status === "ended";
    // The big number is what matters now: the time left, and after an early end the time walked
    // (the time the log records), each named by the caption above it.
    var walked = ended && state.endedEarly;
    clock.textContent = mmss(walked ? Math.floor(state.endedAt) : DURATION - now);
    clockLabel.textContent = walked ? msg.msgTimeWalked : msg.msgTimeLeft;
    clock.classList.toggle("warning", running && now >= DURATION - 15);
    if (running) { showState(paused() ? msg.msgPaused : msg.msgWalking); }
    else if (ended) {
      showState(state.endedEarly
        ? msg.msgEndedEarly.replace("{time}", mmss(Math.floor(state.endedAt))) : msg.msgEnded);
    }
    else { showState(msg.msgReady); }
    if (state.status === "ready" && !phraseBox.textContent) { phraseBox.textContent = msg.msgStartHint; }
    var laps = state.laps.length;
    lapCount.textContent = String(laps);
    var format = lapLength ? (laps === 1 ? msg.msgDistanceOne : msg.msgDistanceMany)
      : (laps === 1 ? msg.msgLapsOne : msg.msgLapsMany);
    lapDistance.textContent = format.replace("{laps}", String(laps))
      .replace("{metres}", String(Math.round(laps * (lapLength || 0) * 10) / 10));
    intro.hidden = state.status !== "ready";
    startButton.hidden = state.status !== "ready";
    lapButton.disabled = !running;
    pauseButton.disabled = !running;
    pauseButton.textContent = paused() ? msg.msgResume : msg.msgPause;
    pauseButton.classList.toggle("active", paused());
    undoButton.disabled = !running || laps === 0;
    endButton.disabled = !running;
    // At the end only the partial lap is asked for, right under the clock.
    lapButton.hidden = ended;
    pauseButton.hidden = ended;
    controls.hidden = ended;
    restartButton.hidden = state.status === "ready";
    form.hidden = !ended;
    replaceButton.hidden = !(ended && state.conflict);
    if (ended && partial.value === "" && state.partial) { partial.value = state.partial; }
  }

  function tick() {
    if (state.status === "running") {
      var now = elapsed();
      cue(now);
      if (now >= DURATION) { end(false); }
    }
    render();
  }

  startButton.addEventListener("click", start);
  lapButton.addEventListener("click", lap);
  undoButton.addEventListener("click", undoLap);
  pauseButton.addEventListener("click", togglePause);
  twoTaps(endButton, msg.msgConfirmEnd, function () { end(true); });
  twoTaps(restartButton, msg.msgConfirmRestart, function () {
    clear();
    state = fresh();
    partial.value = "";
    partialError.hidden = true;
    phraseBox.textContent = "";
    showStatus("");
    releaseWakeLock();
    render();
  });

  twoTaps(replaceButton, msg.msgConfirmReplace, function () {
    state.replace = true;
    state.conflict = false;
    state.pending = true;
    save();
    send();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    partialError.hidden = true;
    if (partial.value.trim() === "") {
      partialError.textContent = msg.msgNeedPartial;
      partialError.hidden = false;
      partial.focus();
      return;
    }
    state.partial = partial.value.trim();
    state.conflict = false;
    state.pending = true;
    save();
    send();
  });

  try { speak.checked = window.localStorage.getItem(SPEAK_KEY) === "1"; } catch (e) { /* default off */ }
  speak.addEventListener("change", function () {
    try { window.localStorage.setItem(SPEAK_KEY, speak.checked ? "1" : "0"); } catch (e) { /* memory only */ }
  });
  if (state.lang) {
    var choice = document.querySelector("input[name=phrase-lang][value=" + state.lang + "]");
    if (choice) { choice.checked = true; }
  }
  document.querySelectorAll("input[name=phrase-lang]").forEach(function (input) {
    input.addEventListener("change", function () { state.lang = language(); save(); });
  });

  window.addEventListener("online", send);
  window.setInterval(send, 15000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && state.status === "running") { acquireWakeLock(); }
  });

  if (state.status === "sent") {
    // The last timing reached the server; this is a new walk.
    clear();
    state = fresh();
  } else if (state.status !== "ready") {
    showStatus(msg.msgRestored);
    if (state.status === "running") { acquireWakeLock(); }
  }
  var shown = state.cue >= 0 && !state.endedEarly ? phrases[language()].phrases[state.cue] : null;
  if (shown) { phraseBox.textContent = shown.text; }
  render();
  window.setInterval(tick, 200);
  if (state.pending) { send(); }
}());
