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
// The stall list holds the chosen stalls and one page of a zone's free stalls. Without JavaScript the zone and
// "more" buttons post the form back as typed; here the same pages come as JSON and the chosen stalls stay. With no
// connection the tablet's kept list of free stalls (static/offline/sync.js) gives the whole zone instead.
(function () {
  var pick = document.getElementById("stall-pick"), list = document.getElementById("stall_ids");
  var form = document.getElementById("register-form");
  if (!pick || !list || !form) return;
  var zone = document.getElementById("zone"), more = document.getElementById("stall-more");
  var status = document.getElementById("stall-status"), show = pick.querySelector("[data-zone-show]");
  var WAIT_MS = 8000, asked = 0;
  if (show) show.remove(); // the zone loads as it changes; Enter in a field saves the form again
  function currentZone() { return form.elements.zone ? form.elements.zone.value : ""; }
  function setMore(after) {
    more.textContent = "";
    if (!after) return;
    var button = document.createElement("button");
    button.type = "button"; button.className = "btn"; button.textContent = more.dataset.label;
    button.addEventListener("click", function () { load(currentZone(), after, true); });
    more.appendChild(button);
  }
  function fill(stalls, append) {
    if (!append) {
      Array.prototype.slice.call(list.options).forEach(function (o) { if (!o.selected) o.remove(); });
    }
    var have = {};
    Array.prototype.forEach.call(list.options, function (o) { have[o.value] = true; });
    stalls.forEach(function (s) {
      if (!have[String(s.id)]) list.appendChild(new Option(s.label, String(s.id)));
    });
    status.textContent = "";
    list.dispatchEvent(new CustomEvent("choqr-stalls", { bubbles: true }));
  }
  function fromKept(name, append) {
    var offline = window.choqrOffline;
    var kept = offline && offline.keptStalls ? offline.keptStalls(form.dataset.marketCode) : Promise.resolve(null);
    return kept.then(function (stalls) {
      if (!stalls) { status.textContent = pick.dataset.failed; return; }
      fill(stalls.filter(function (s) { return s.zone === name; }).map(function (s) {
        return { id: s.id, label: s.zone ? s.code + " – " + s.zone : s.code };
      }), append);
      setMore("");
    });
  }
  function load(name, after, append) {
    var mine = ++asked, ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl && setTimeout(function () { ctl.abort(); }, WAIT_MS); // a dead spot hangs rather than fails
    var url = pick.dataset.url + "?zone=" + encodeURIComponent(name) + (after ? "&stall_after=" + encodeURIComponent(after) : "");
    return fetch(url, { credentials: "same-origin", signal: ctl ? ctl.signal : undefined })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        if (mine !== asked) return;
        fill(data.stalls, append); setMore(data.more_after);
      })
      .catch(function () { if (mine === asked) return fromKept(name, append); })
      .finally(function () { if (timer) clearTimeout(timer); });
  }
  var next = more.querySelector("button");
  setMore(next ? next.value : "");
  if (zone) zone.addEventListener("change", function () { load(zone.value, "", false); });
})();
// With no connection the form saves to the tablet's outbox (static/offline/sync.js) instead of posting: the
// registration is sent, with its own client_id, when the connection comes back. A draft the server refused
// opens here (#draft=<client_id>) with its field errors, to be corrected and sent again.
(function () {
  var form = document.getElementById("register-form"), saved = document.getElementById("offline-saved");
  var later = form && form.querySelector("[data-offline-save]");
  if (!form) return;
  var FIELD_OF = { stalls: "stall_ids", bank_bin: "bin" }, editing = null;
  function value(name) { var el = form.elements[name]; return el ? el.value.trim() : ""; }
  function capturedAt() {
    var d = new Date(), off = -d.getTimezoneOffset(), pad = function (n) { return String(Math.abs(n)).padStart(2, "0"); };
    var local = new Date(d.getTime() + off * 60000).toISOString().slice(0, 19);
    return local + (off >= 0 ? "+" : "-") + pad(Math.trunc(off / 60)) + ":" + pad(off % 60);
  }
  function collect() {
    var options = Array.prototype.slice.call(form.querySelectorAll("#stall_ids option:checked"));
    var body = {
      market: form.dataset.marketCode,
      stalls: options.map(function (o) { return o.textContent.trim().split(/\s+/)[0]; }),
      owner_name: value("owner_name"), phone: value("phone"), citizen_id: value("citizen_id"), goods: value("goods"),
      captured_at: editing ? editing.body.captured_at : capturedAt(),
    };
    if (value("bin") || value("account_number")) {
      body.bank_bin = value("bin"); body.account_number = value("account_number");
      body.account_alias = !!(form.elements.account_alias && form.elements.account_alias.checked);
    }
    if (value("holder_name")) body.holder_name = value("holder_name");
    if (value("new_stall_code")) { body.new_stall_code = value("new_stall_code"); body.new_stall_zone = value("new_stall_zone"); }
    return {
      client_id: editing ? editing.client_id : undefined,
      created_at: editing ? editing.created_at : undefined,
      body: body,
      market_name: form.dataset.marketName,
      edit_url: location.pathname,
      stall_ids: options.map(function (o) { return o.value; }),
    };
  }
  function clearErrors() {
    form.querySelectorAll("[data-draft-error]").forEach(function (e) { e.remove(); });
    form.querySelectorAll(".field.has-error").forEach(function (f) { f.classList.remove("has-error"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
  }
  function showErrors(errors) {
    clearErrors();
    var first = null;
    Object.keys(errors || {}).forEach(function (key) {
      var control = document.getElementById(FIELD_OF[key] || key), field = control && control.closest(".field");
      if (!field) return;
      var box = document.createElement("div"), p = document.createElement("p");
      box.id = control.id + "-error"; box.setAttribute("data-draft-error", "");
      p.className = "error"; p.setAttribute("role", "alert"); p.textContent = errors[key];
      box.appendChild(p); field.appendChild(box); field.classList.add("has-error");
      control.setAttribute("aria-invalid", "true");
      var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(box.id) < 0) described.push(box.id);
      control.setAttribute("aria-describedby", described.join(" "));
      first = first || control;
    });
    if (first) first.focus();
  }
  function fill(draft) {
    var b = draft.body;
    ["owner_name", "phone", "citizen_id", "goods", "holder_name", "new_stall_code", "new_stall_zone"].forEach(function (n) {
      if (form.elements[n]) form.elements[n].value = b[n] || "";
    });
    if (form.elements.bin) form.elements.bin.value = b.bank_bin || "";
    if (form.elements.account_number) form.elements.account_number.value = b.account_number || "";
    if (form.elements.account_alias) form.elements.account_alias.checked = !!b.account_alias;
    var list = document.getElementById("stall_ids");
    (draft.stall_ids || []).forEach(function (id, i) { // the list may show another zone than the draft's stalls
      if (list && !list.querySelector('option[value="' + CSS.escape(id) + '"]')) list.appendChild(new Option((b.stalls || [])[i] || id, id));
    });
    Array.prototype.forEach.call(form.querySelectorAll("#stall_ids option"), function (o) {
      o.selected = (draft.stall_ids || []).indexOf(o.value) >= 0 || (b.stalls || []).indexOf(o.textContent.trim().split(/\s+/)[0]) >= 0;
    });
    if (form.elements.owner_name) form.elements.owner_name.dispatchEvent(new Event("input"));
    saved.hidden = true;
    showErrors(draft.errors);
  }
  function markTaken(drafts) {
    // a stall already given to a draft on this tablet is not offered again
    var taken = {};
    drafts.forEach(function (d) {
      if (d.edit_url === location.pathname && (!editing || d.client_id !== editing.client_id)) {
        (d.stall_ids || []).forEach(function (id) { taken[id] = true; });
      }
    });
    Array.prototype.forEach.call(form.querySelectorAll("#stall_ids option"), function (o) {
      o.disabled = !!taken[o.value];
      if (taken[o.value]) o.selected = false;
    });
  }
  function ready(offline) {
    if (later) later.hidden = false;
    offline.pending().then(markTaken);
    form.addEventListener("choqr-stalls", function () { offline.pending().then(markTaken); });
    function openDraft() {
      var m = /#draft=([0-9a-f-]+)/.exec(location.hash);
      if (m) offline.get(m[1]).then(function (draft) {
        if (draft) { editing = draft; fill(draft); offline.pending().then(markTaken); }
      });
    }
    openDraft();
    window.addEventListener("hashchange", openDraft);
    function keep() {
      return offline.save(collect()).then(function () {
        editing = null;
        if (location.hash) history.replaceState(null, "", location.pathname + location.search);
        clearErrors(); form.reset();
        if (form.elements.owner_name) form.elements.owner_name.dispatchEvent(new Event("input"));
        saved.className = "outbox-note"; saved.textContent = saved.dataset.text || saved.textContent;
        saved.dataset.text = saved.textContent;
        saved.hidden = false; saved.setAttribute("tabindex", "-1"); saved.focus();
        return offline.pending().then(markTaken);
      }).catch(function (error) {
        saved.dataset.text = saved.dataset.text || saved.textContent;
        saved.hidden = false; saved.className = "outbox-note error"; saved.textContent = error.message;
      });
    }
    if (later) later.addEventListener("click", keep);
    form.addEventListener("submit", function (event) {
      if (navigator.onLine && !editing) return; // online: the usual post, same page as without the outbox
      event.preventDefault();
      keep();
    });
  }
  if (window.choqrOffline) ready(window.choqrOffline);
  else document.addEventListener("choqr-offline-ready", function () { ready(window.choqrOffline); }, { once: true });
})();
