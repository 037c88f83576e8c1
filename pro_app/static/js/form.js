// Form pages of the 6MWT log: hide a field that does not apply (oxygen flow without oxygen) and keep
// "none of these" apart from the other ticks. The server checks both; without JavaScript every field
// shows with a note saying when it applies.
(function () {
  "use strict";

  var form = document.querySelector("form.form-screen");
  if (!form) { return; }

  function chosen(name) {
    return Array.prototype.filter.call(form.elements, function (input) {
      return input.name === name && (input.type === "radio" || input.type === "checkbox") && input.checked;
    }).map(function (input) { return input.value; });
  }

  function showWhatApplies() {
    form.querySelectorAll("[data-when-field]").forEach(function (box) {
      box.hidden = chosen(box.dataset.whenField).indexOf(box.dataset.whenValue) === -1;
    });
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    var box = input.closest("[data-exclusive]");
    if (box && input.type === "checkbox" && input.checked) {
      var alone = input.value === box.dataset.exclusive;
      box.querySelectorAll("input[type=checkbox][name='" + input.name + "']").forEach(function (other) {
        if (other !== input && (alone || other.value === box.dataset.exclusive)) { other.checked = false; }
      });
    }
    showWhatApplies();
  });
  showWhatApplies();
}());
