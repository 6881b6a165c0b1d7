// The tablet's outbox on every page: registrations saved with no signal wait here, encrypted (crypto.js, outbox.js),
// and are sent to POST /api/v1/registrations on load, when the connection comes back, on a timer and on "Gửi lại".
// Each carries the client_id made when it was saved, so a retry after a lost answer is recognised by the server
// (200 with the first answer), never registered twice. The register form hands drafts in through window.choqrOffline.
const boot = document.getElementById("offline-boot");
const T = JSON.parse(document.getElementById("offline-text").textContent);
const userId = Number(boot.dataset.userId);
const $ = (id) => document.getElementById(id);
const panel = $("outbox"), countEl = $("outbox-count"), statusEl = $("outbox-status");
const listEl = $("outbox-list"), sendButton = $("outbox-send");
const SYNC_EVERY_MS = 60 * 1000;
const WARM_EVERY_MS = 30 * 60 * 1000; // the kept register forms (free stalls) are refreshed this often online
const OLD_AFTER_MS = 3 * 24 * 3600 * 1000;
const SIGN_OUT_WAIT_MS = 10 * 1000;
const PAGES = "choqr-pages-";

const fmt = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k]));
const supported = window.isSecureContext && "serviceWorker" in navigator && "indexedDB" in window
  && window.crypto && crypto.subtle && typeof crypto.randomUUID === "function";

let outbox = null, box = null, key = null, csrf = null, state = null;
let syncing = null, message = "";
const sent = []; // what this page sent: shown as links to the household pages

function say(text) {
  message = text || "";
  statusEl.textContent = message;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => { if (v !== undefined && v !== null) node.setAttribute(k, v); });
  children.flat().forEach((c) => node.append(c));
  return node;
}

function draftLine(d) {
  const b = d.body || {};
  const where = [d.market_name, (b.stalls || []).concat(b.new_stall_code ? [b.new_stall_code] : []).join(", ")]
    .filter(Boolean).join(" · " + T.stall + " ");
  const li = el("li", { class: d.refused ? "draft refused" : "draft", "data-client-id": d.client_id },
    el("b", {}, b.owner_name || "?"), where ? " · " + where : "");
  if (d.refused) {
    const errors = el("ul", { class: "errors" });
    const fields = Object.entries(d.errors || {});
    if (!fields.length && d.message) errors.append(el("li", { class: "error" }, d.message));
    fields.forEach(([f, m]) => {
      const label = (T.field && T.field[f]) || f; // the server's message often names its field already
      errors.append(el("li", { class: "error" }, String(m).startsWith(label) ? m : `${label}: ${m}`));
    });
    const drop = el("button", { type: "button", class: "btn" }, T.discard);
    drop.addEventListener("click", async () => {
      if (!window.confirm(T.discard_confirm)) return;
      await outbox.remove(d.client_id);
      await render();
    });
    li.append(el("p", {}, T.refused), errors,
      el("div", { class: "outbox-actions" },
        el("a", { class: "btn", href: `${d.edit_url}#draft=${d.client_id}` }, T.fix), drop));
  }
  return li;
}

async function render() {
  if (!outbox) return;
  const counts = await outbox.counts(userId);
  const parts = [];
  if (counts.total) parts.push(fmt(T.count, { n: counts.total }));
  if (counts.refused) parts.push(fmt(T.count_refused, { n: counts.refused }));
  countEl.textContent = parts.join(" · ");
  sendButton.hidden = counts.total === 0;
  listEl.textContent = "";
  sent.forEach((s) => listEl.append(el("li", { class: "sent" }, (s.before ? T.sent_before : T.sent) + " ",
    el("a", { href: s.url }, s.name))));
  if (key && counts.total) {
    const { drafts } = await outbox.list(userId, key);
    drafts.forEach((d) => listEl.append(draftLine(d)));
  }
  const old = counts.total && Date.now() - counts.oldest > OLD_AFTER_MS;
  if (old) listEl.append(el("li", { class: "warning" }, T.old));
  panel.hidden = !(counts.total || sent.length || message);
  document.documentElement.dataset.outboxCount = String(counts.total);
}

async function loadState() {
  let resp;
  try {
    resp = await fetch(boot.dataset.state, { credentials: "same-origin", cache: "no-store" });
  } catch (e) {
    return null; // no connection: keep the key we have
  }
  if (resp.status === 401) { say(T.sign_in); return null; }
  if (!resp.ok) return null;
  const s = await resp.json();
  if (s.user_id !== userId) { location.reload(); return null; } // another user signed in since this page loaded
  const fresh = await box.importKey(s.key);
  await outbox.setKey(userId, s.key_id, fresh);
  key = fresh; csrf = s.csrf_token; state = s;
  return s;
}

async function send(draft, retried) {
  let resp, data = {};
  try {
    resp = await fetch(boot.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf || "" },
      body: JSON.stringify(draft.body),
    });
  } catch (e) {
    say(navigator.onLine ? T.failed : T.offline);
    return false;
  }
  try { data = await resp.json(); } catch (e) { /* not JSON: judged by status alone */ }
  const error = data.error || {};
  if (resp.status === 200 || resp.status === 201 || (resp.status === 409 && data.url)) {
    await outbox.remove(draft.client_id);
    sent.push({ name: draft.body.owner_name, url: data.url, before: resp.status === 409 });
    return true;
  }
  if (resp.status === 422) {
    await outbox.save(userId, key, { ...draft, refused: true, errors: error.fields || {}, message: error.message || "" });
    return true;
  }
  if (resp.status === 400 && error.code === "csrf" && !retried && (await loadState())) return send(draft, true);
  say(resp.status === 401 ? T.sign_in : T.failed);
  return false;
}

async function syncNow() {
  if (!outbox) return;
  if (!navigator.onLine) { say(T.offline); await render(); return; }
  if (!csrf) await loadState();
  if (!key || !csrf) { await render(); return; }
  const { drafts } = await outbox.list(userId, key);
  const todo = drafts.filter((d) => !d.refused);
  if (todo.length) {
    say(T.sending);
    await render();
    let ok = true;
    for (const d of todo) {
      ok = await send(d);
      if (!ok) break;
    }
    if (ok) say("");
  } else if (message === T.offline || message === T.failed) {
    say("");
  }
  await render();
}

/** One sync at a time (timer, reconnect and the button may coincide). */
function sync() {
  if (!syncing) syncing = syncNow().catch(() => say(T.failed)).finally(() => { syncing = null; });
  return syncing;
}

async function toWorker(msg) {
  const reg = await navigator.serviceWorker.ready;
  const target = navigator.serviceWorker.controller || reg.active;
  if (!target) return null;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => resolve(e.data);
    target.postMessage(msg, [channel.port2]);
  });
}

async function warm() {
  if (!state || !boot.dataset.markets || !navigator.onLine) return;
  const mark = `choqr-warm-${userId}`;
  const last = JSON.parse(localStorage.getItem(mark) || "{}");
  if (last.key_id === state.key_id && Date.now() - last.at < WARM_EVERY_MS) return;
  const resp = await fetch(boot.dataset.markets, { credentials: "same-origin", cache: "no-store" });
  if (!resp.ok) return;
  const data = await resp.json();
  try { // the free stalls of every market, for the kept register forms to list a zone with no signal
    const pages = await caches.open(PAGES + userId);
    await pages.put(boot.dataset.markets, new Response(JSON.stringify(data), { headers: { "Content-Type": "application/json" } }));
  } catch (e) { /* no cache storage: a kept form lists its first zone only */ }
  const urls = data.markets.map((m) => m.register_url).concat([data.offline_page]);
  const kept = await toWorker({ type: "warm", user_id: userId, urls });
  if (kept) localStorage.setItem(mark, JSON.stringify({ key_id: state.key_id, at: Date.now() }));
}

async function startWorker() {
  await navigator.serviceWorker.register(boot.dataset.sw, { scope: "/" });
  if (!navigator.serviceWorker.controller) {
    const claimed = new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
    await toWorker({ type: "claim" });
    await Promise.race([claimed, new Promise((r) => setTimeout(r, 2000))]);
  }
  await toWorker({ type: "user", user_id: userId });
  await warm();
}

/** Sign-out on a shared tablet: send what can be sent, warn about the rest, then drop the key and kept pages. */
function guardSignOut() {
  const form = document.querySelector(`form[action="${boot.dataset.logout}"]`);
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    if (form.dataset.cleared) return;
    event.preventDefault();
    if (navigator.onLine) await Promise.race([sync(), new Promise((r) => setTimeout(r, SIGN_OUT_WAIT_MS))]);
    const counts = await outbox.counts(userId);
    if (counts.total && !window.confirm(fmt(T.signout_unsent, { n: counts.total }))) return;
    await outbox.forget(userId);
    key = null;
    try {
      await Promise.race([toWorker({ type: "signout", user_id: userId }), new Promise((r) => setTimeout(r, 2000))]);
      await caches.delete(PAGES + userId);
    } catch (e) { /* no worker: nothing kept */ }
    localStorage.removeItem(`choqr-warm-${userId}`);
    form.dataset.cleared = "1";
    form.submit();
  });
}

/** What the register form uses: save a draft (new or corrected), read one back, and know when it is sent. */
const api = {
  async save(draft) {
    if (!key) throw new Error(T.no_key);
    const d = {
      ...draft,
      client_id: draft.client_id || crypto.randomUUID(),
      created_at: draft.created_at || Date.now(),
      refused: false, errors: {}, message: "",
    };
    d.body = { ...d.body, client_id: d.client_id };
    await outbox.save(userId, key, d);
    await render();
    if (navigator.onLine) sync();
    return d;
  },
  async get(clientId) {
    return key ? outbox.get(userId, key, clientId) : null;
  },
  async pending() {
    return key ? (await outbox.list(userId, key)).drafts : [];
  },
  /** The free stalls ({id, code, zone}) of a market as last kept for this user, or null. */
  async keptStalls(marketCode) {
    if (!boot.dataset.markets) return null;
    try {
      const hit = await (await caches.open(PAGES + userId)).match(boot.dataset.markets);
      const market = hit && (await hit.json()).markets.find((m) => m.code === marketCode);
      return market ? market.stalls : null;
    } catch (e) {
      return null;
    }
  },
  sync,
  text: T,
};

async function start() {
  if (!supported) { $("offline-unsupported").hidden = false; return; }
  const [idb, crypt, store] = await Promise.all([
    import(boot.dataset.idb), import(boot.dataset.crypto), import(boot.dataset.outbox)]);
  box = crypt;
  outbox = await store.createOutbox(idb, box);
  const kept = await outbox.key(userId);
  key = kept ? kept.key : null;
  await loadState();
  window.choqrOffline = api;
  document.dispatchEvent(new CustomEvent("choqr-offline-ready"));
  guardSignOut();
  sendButton.addEventListener("click", () => sync());
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => { say(T.offline); render(); });
  setInterval(() => { if (navigator.onLine) sync(); }, SYNC_EVERY_MS);
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persisted().then((p) => p || navigator.storage.persist()).catch(() => {});
  }
  await render();
  await sync();
  try { await startWorker(); } catch (e) { /* pages are not kept offline; the outbox still works */ }
  document.documentElement.dataset.offlineReady = "1";
}

start().catch(() => { $("offline-unsupported").hidden = false; });
