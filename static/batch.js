// Job progress (print batches, long imports): poll the small status JSON, move the bar, and reload for the final
// page when it ends. A job that words its own progress sends it as "text".
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  var bar = box.querySelector("progress"), text = box.querySelector("[data-text]");
  function show(s) {
    bar.max = s.total || 1;
    if (s.text !== undefined) {
      if (s.done) bar.value = s.done; else bar.removeAttribute("value");
      text.textContent = s.text;
      return;
    }
    if (!s.done) {  // the QR codes are encoded before the first placard is drawn: an indeterminate bar
      bar.removeAttribute("value");
      text.textContent = box.dataset.preparing.replace("{total}", s.total);
      return;
    }
    bar.value = s.done;
    text.textContent = box.dataset.template.replace("{done}", s.done).replace("{total}", s.total)
      .replace("{percent}", s.percent);
  }
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (s) {
        show(s);
        if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
        setTimeout(tick, 700);
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 300);
})();
