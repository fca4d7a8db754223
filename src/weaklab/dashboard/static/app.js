// weaklab dashboard: keyboard answers on the review page, two-run picking on the runs page.
// No framework and no network access beyond this app: forms post to the same origin.
(function () {
  "use strict";

  function reviewKeys() {
    var form = document.getElementById("answer-form");
    if (!form) { return; }
    var buttons = Array.prototype.slice.call(form.querySelectorAll("button.choice"));
    var selected = -1;
    var sent = false;
    function select(i) {
      selected = (i + buttons.length) % buttons.length;
      buttons.forEach(function (b, j) { b.classList.toggle("selected", j === selected); });
      buttons[selected].focus();
    }
    function send(i) {
      if (sent) { return; }            // one answer per page: never a double submission
      sent = true;
      var label = document.createElement("input");
      label.type = "hidden"; label.name = "label"; label.value = buttons[i].value;
      form.appendChild(label);
      buttons.forEach(function (b) { b.disabled = true; });
      form.submit();
    }
    form.addEventListener("submit", function () { sent = true; });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey) { return; }
      var n = parseInt(e.key, 10);
      if (n >= 1 && n <= buttons.length) { e.preventDefault(); send(n - 1); return; }
      if (e.key === "ArrowRight" || e.key === "ArrowDown") { e.preventDefault(); select(selected + 1); return; }
      if (e.key === "ArrowLeft" || e.key === "ArrowUp") { e.preventDefault(); select(selected < 0 ? -1 : selected - 1); return; }
      if (e.key === "Enter" && selected >= 0) { e.preventDefault(); send(selected); return; }
      var skip = document.getElementById("skip-form");
      if ((e.key === "s" || e.key === "S") && skip && !sent) { e.preventDefault(); sent = true; skip.submit(); }
    });
  }

  function runPicker() {
    var form = document.getElementById("diff-form");
    if (!form) { return; }
    form.addEventListener("submit", function (e) {
      var a = form.querySelector("input[name=a]:checked");
      var b = form.querySelector("input[name=b]:checked");
      if (!a || !b || a.value === b.value) {
        e.preventDefault();
        window.alert("Pick two different runs: one as A, one as B.");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { reviewKeys(); runPicker(); });
}());
