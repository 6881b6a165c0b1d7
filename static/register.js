// Registration helpers: search-before-create as the officer types, and a live preview of the bank-style holder name.
(function () {
  var script = document.currentScript, url = script && script.dataset.searchUrl;
  var stallWord = (script && script.dataset.stallWord) || "sạp";
  var box = document.getElementById("dupes"), list = box && box.querySelector("ul");
  var timer = null, last = "";
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toUpperCase().replace(/[^A-Z ]/g, "").replace(/\s+/g, " ").trim();
  }
  function search(q) {
    if (!url || q.replace(/\s/g, "").length < 2 || q === last) return;
    last = q;
    fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (hits) {
        list.textContent = "";
        hits.forEach(function (h) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = h.url; a.textContent = h.owner_name; a.target = "_blank";
          li.appendChild(a);
          li.appendChild(document.createTextNode(" · " + h.market + (h.stalls ? " · " + stallWord + " " + h.stalls : "") + (h.phone ? " · " + h.phone : "")));
          list.appendChild(li);
        });
        box.hidden = hits.length === 0;
      }).catch(function () {});
  }
  document.querySelectorAll("[data-search]").forEach(function (el) {
    el.addEventListener("input", function () {
      clearTimeout(timer);
      var v = el.value.trim();
      timer = setTimeout(function () { search(v); }, 300);
    });
  });
  var owner = document.getElementById("owner_name"), holder = document.getElementById("holder_name");
  if (owner && holder) {
    var sync = function () { holder.placeholder = fold(owner.value) || "NGUYEN VAN A"; };
    owner.addEventListener("input", sync); sync();
  }
})();
