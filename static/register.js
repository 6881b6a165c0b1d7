// Registration helpers: search-before-create as the officer types, a live preview of the bank-style holder name,
// and reading the household's bank QR from a photo without losing what was typed.
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
  // Reading a QR photo posts the small form above; carry along what was typed in the big one since the page loaded.
  var prefill = document.getElementById("prefill-form"), main = document.getElementById("register-form");
  function carryTyped() {
    prefill.querySelectorAll("input[type=hidden][data-copy]").forEach(function (el) {
      var source = main.elements[el.name];
      if (source) el.value = source.value;
    });
    prefill.querySelectorAll("input[name=stall_ids]").forEach(function (el) { el.remove(); });
    Array.prototype.forEach.call(main.querySelectorAll("#stall_ids option:checked"), function (opt) {
      var el = document.createElement("input");
      el.type = "hidden"; el.name = "stall_ids"; el.value = opt.value;
      prefill.appendChild(el);
    });
    var button = prefill.querySelector("button[data-busy]");
    if (button) { button.textContent = button.dataset.busy; button.disabled = true; }
  }
  // A camera photo weighs megabytes: send a smaller JPEG over a weak link, and read it as soon as it is chosen.
  var MAX_BYTES = 400 * 1024, STEPS = [[1600, 0.85], [1280, 0.8], [1024, 0.75]];
  function shrink(file) {
    if (!window.createImageBitmap || !window.DataTransfer || file.size <= MAX_BYTES) return Promise.resolve(file);
    return createImageBitmap(file).then(function (img) {
      function attempt(i) {
        var side = STEPS[i][0], scale = Math.min(1, side / Math.max(img.width, img.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.width * scale); canvas.height = Math.round(img.height * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", STEPS[i][1]); })
          .then(function (blob) { return blob && blob.size > MAX_BYTES && i + 1 < STEPS.length ? attempt(i + 1) : blob; });
      }
      return attempt(0);
    }).then(function (blob) {
      return blob && blob.size < file.size ? new File([blob], "qr.jpg", { type: "image/jpeg" }) : file;
    }).catch(function () { return file; });
  }
  var photo = document.getElementById("qr-photo");
  if (prefill && main) {
    prefill.addEventListener("submit", carryTyped);
    if (photo) photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      if (!file) return;
      shrink(file).then(function (small) {
        if (small !== file) { var dt = new DataTransfer(); dt.items.add(small); photo.files = dt.files; }
        if (prefill.requestSubmit) prefill.requestSubmit(); else { carryTyped(); prefill.submit(); }
      });
    });
  }
  var owner = document.getElementById("owner_name"), holder = document.getElementById("holder_name");
  if (owner && holder) {
    var sync = function () { holder.placeholder = fold(owner.value) || "NGUYEN VAN A"; };
    owner.addEventListener("input", sync); sync();
  }
})();
