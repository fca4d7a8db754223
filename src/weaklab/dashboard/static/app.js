// weaklab dashboard: keyboard answers on the review page (classes or spans), two-run picking on the runs page.
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

  // The span review page: every proposed span is accepted, rejected or fixed, new spans are added, by keyboard.
  function spanReview() {
    var section = document.getElementById("span-review");
    var form = document.getElementById("span-form");
    if (!section || !form) { return; }
    var types = JSON.parse(section.getAttribute("data-types"));
    var n = parseInt(section.getAttribute("data-ntokens"), 10);
    var tokens = Array.prototype.slice.call(section.querySelectorAll("#span-tokens .tok"));
    var list = document.getElementById("span-list");
    var modeNote = document.getElementById("span-mode");
    var entries = JSON.parse(section.getAttribute("data-proposed")).map(function (p) {
      return {orig: p, cur: p.slice(), decision: null};
    });
    var focus = entries.length ? 0 : -1;
    var edit = null;                   // {anchor, cursor, target}: choosing tokens for a fixed or new span
    var sent = false;

    function kept(e) { return e.decision !== "rejected"; }
    function overlaps(a, b) { return a[0] < b[1] && b[0] < a[1]; }
    function typeClass(t) { return "t" + (Math.max(0, types.indexOf(t)) % 8); }
    function words(span) { return tokens.slice(span[0], span[1]).map(function (x) { return x.textContent; }).join(" "); }
    function status(e) { return e.decision || (e.orig ? "proposed" : "added"); }

    function render() {
      tokens.forEach(function (tok) { tok.className = "tok"; });
      entries.forEach(function (e, i) {
        for (var k = e.cur[0]; k < e.cur[1]; k++) {
          var c = tokens[k].classList;
          if (kept(e)) { c.add("in", typeClass(e.cur[2])); } else if (!c.contains("in")) { c.add("rejected"); }
          if (k === e.cur[0] && kept(e)) { c.add("first"); }
          if (k === e.cur[1] - 1 && kept(e)) { c.add("last"); }
          if (i === focus && !edit) { c.add("focus"); }
        }
      });
      if (edit) {
        var lo = Math.min(edit.anchor, edit.cursor), hi = Math.max(edit.anchor, edit.cursor);
        for (var k = lo; k <= hi; k++) { tokens[k].classList.add("sel"); }
        tokens[edit.cursor].classList.add("cursor");
        modeNote.textContent = "Choosing tokens " + lo + ".." + hi + " (" + words([lo, hi + 1]) +
          "): press a type number, or Esc to cancel.";
      } else {
        modeNote.textContent = entries.length ? "Span " + (focus + 1) + " of " + entries.length + " chosen." :
          "No spans: press n to add one, Enter to save the item as having none.";
      }
      list.innerHTML = "";
      entries.forEach(function (e, i) {
        var li = document.createElement("li");
        li.className = "span-entry " + status(e) + (i === focus ? " focus" : "");
        li.setAttribute("data-start", e.cur[0]); li.setAttribute("data-end", e.cur[1]);
        li.setAttribute("data-type", e.cur[2]); li.setAttribute("data-status", status(e));
        var label = document.createElement("span");
        label.className = "legend " + typeClass(e.cur[2]);
        label.textContent = e.cur[2];
        li.appendChild(label);
        li.appendChild(document.createTextNode(" " + words(e.cur) + " — " + status(e) +
          (e.decision === "fixed" ? " (was: " + words(e.orig) + ", " + e.orig[2] + ")" : "")));
        list.appendChild(li);
      });
    }

    function decide(decision) {
      if (focus < 0) { return; }
      var e = entries[focus];
      if (decision === "accepted") {
        var clash = entries.some(function (o, j) { return j !== focus && kept(o) && overlaps(o.cur, e.cur); });
        if (clash) { modeNote.textContent = "Another kept span overlaps this one: reject or fix that one first."; return; }
        e.decision = e.orig ? "accepted" : "added";
        if (e.orig && e.cur.join() !== e.orig.join()) { e.decision = "fixed"; }
      } else if (!e.orig) {
        entries.splice(focus, 1);
        focus = Math.min(focus, entries.length - 1);
      } else {
        e.decision = "rejected";
      }
      render();
    }

    function place(typeIndex) {
      var lo = Math.min(edit.anchor, edit.cursor), hi = Math.max(edit.anchor, edit.cursor) + 1;
      var span = [lo, hi, types[typeIndex]];
      var target = edit.target >= 0 ? entries[edit.target] : null;
      if (target === null) {
        target = {orig: null, cur: span, decision: "added"};
        entries.push(target);
      } else {
        target.cur = span;
        target.decision = target.orig ? (span.join() === target.orig.join() ? "accepted" : "fixed") : "added";
      }
      entries = entries.filter(function (o) {
        return o === target || !kept(o) || !overlaps(o.cur, span) || (o.orig && (o.decision = "rejected"));
      });
      entries.sort(function (a, b) { return a.cur[0] - b.cur[0] || a.cur[1] - b.cur[1]; });
      focus = entries.indexOf(target);
      edit = null;
      render();
    }

    function save() {
      if (sent) { return; }            // one answer per page: never a double submission
      sent = true;
      var spans = entries.filter(kept).map(function (e) { return e.cur; });
      spans.sort(function (a, b) { return a[0] - b[0]; });
      var decisions = entries.filter(function (e) { return e.orig; }).map(function (e) {
        var d = e.decision || "accepted";
        return {span: e.orig, decision: d, fixed_to: d === "fixed" ? e.cur : null};
      });
      document.getElementById("span-field").value = JSON.stringify(spans);
      document.getElementById("decision-field").value = JSON.stringify(decisions);
      form.submit();
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); save(); });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey || sent || n === 0) { return; }
      var right = e.key === "ArrowRight" || e.key === "ArrowDown", left = e.key === "ArrowLeft" || e.key === "ArrowUp";
      if (edit) {
        e.preventDefault();
        if (right || left) {
          edit.cursor = Math.max(0, Math.min(n - 1, edit.cursor + (right ? 1 : -1)));
          if (!e.shiftKey) { edit.anchor = edit.cursor; }
        } else if (e.key === "Escape") {
          edit = null;
        } else {
          var k = parseInt(e.key, 10);
          if (k >= 1 && k <= types.length) { place(k - 1); return; }
        }
        render();
        return;
      }
      if (right || left) {
        e.preventDefault();
        if (entries.length) { focus = (focus + (right ? 1 : -1) + entries.length) % entries.length; }
        render();
      } else if (e.key === "a" || e.key === "A") {
        e.preventDefault(); decide("accepted");
      } else if (e.key === "r" || e.key === "R" || e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault(); decide("rejected");
      } else if ((e.key === "f" || e.key === "F") && focus >= 0) {
        e.preventDefault();
        edit = {anchor: entries[focus].cur[0], cursor: entries[focus].cur[1] - 1, target: focus};
        render();
      } else if (e.key === "n" || e.key === "N") {
        e.preventDefault();
        var at = focus >= 0 ? Math.min(n - 1, entries[focus].cur[1]) : 0;
        edit = {anchor: at, cursor: at, target: -1};
        render();
      } else if (e.key === "Enter") {
        e.preventDefault(); save();
      } else if (e.key === "s" || e.key === "S") {
        var skip = document.getElementById("span-skip-form");
        if (skip) { e.preventDefault(); sent = true; skip.submit(); }
      }
    });
    render();
  }

  // The review page's CAM overlay: a real button (Tab + Enter/Space) and the "c" key swap the picture
  // for the picture with its class activation map; aria-pressed tells assistive technology which is shown.
  function camToggle() {
    var button = document.getElementById("cam-toggle");
    var picture = document.getElementById("item-image");
    if (!button || !picture) { return; }
    function toggle() {
      var on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", on ? "true" : "false");
      picture.src = on ? button.dataset.cam : button.dataset.picture;
      picture.alt = on ? button.dataset.camAlt : button.dataset.pictureAlt;
      button.firstChild.nodeValue = on ? "Hide CAM overlay (" : "Show CAM overlay (";
    }
    button.addEventListener("click", toggle);
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || e.ctrlKey || e.metaKey || e.altKey) { return; }
      if (e.key === "c" || e.key === "C") { e.preventDefault(); toggle(); }
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

  document.addEventListener("DOMContentLoaded", function () { reviewKeys(); spanReview(); camToggle(); runPicker(); });
}());
