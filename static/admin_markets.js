// The market form's commune picker without a round of clicks: choosing a province shows its communes at once,
// and Enter in the search box searches (elsewhere it saves). Without JavaScript the picker's buttons do the same.
(function () {
  var form = document.getElementById("market-form");
  if (!form) return;
  form.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () {
      var button = document.getElementById(el.dataset.autosubmit);
      if (button) button.click();
    });
  });
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    var search = event.target.name === "commune_q";
    var button = form.querySelector(search ? "button[value=search]" : "button.primary");
    if (button) { event.preventDefault(); button.click(); }
  });
})();
