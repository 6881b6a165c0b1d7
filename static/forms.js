// One tap, one save: on a slow link an officer taps "Lưu" again and again. After the first tap the button
// is disabled and says it is working; it comes back if the page is shown again (back button after a network
// error) or, for forms that only download a file, after a few seconds.
(function () {
  var WORKING = document.documentElement.lang === "en" ? "Working…" : "Đang xử lý…";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (!button || button.disabled) return;
    // let the submission carry the button's own name/value before disabling it
    setTimeout(function () {
      button.dataset.label = button.textContent;
      button.disabled = true;
      button.textContent = WORKING;
      if (form.hasAttribute("data-download")) setTimeout(function () { restore(button); }, 4000);
    }, 0);
  });
  function restore(button) {
    if (button.dataset.label !== undefined) button.textContent = button.dataset.label;
    button.disabled = false;
  }
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[data-label]").forEach(restore);
  });
})();
