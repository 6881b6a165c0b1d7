// ChoQR's service worker (served as /sw.js so it controls every page). It keeps two kinds of things:
// - the app shell: versioned /static/ files (CSS, JS, fonts), cache-first, the same for everyone;
// - the pages an officer needs with no signal (the register form of each market they serve, and a fallback
//   page), only when a page of that signed-in user asks for them, in a cache named after the user.
// Pages are network-first: a kept page is shown only when the network fails, and only to the user it was kept
// for. Another user's sign-in or a sign-out deletes the other caches. POSTs, the API and JSON never pass here.
const SHELL = "choqr-shell-v1";
const PAGES = "choqr-pages-";
const META = "choqr-meta";
const CURRENT = "/offline/current-user";
const PAGE_TIMEOUT_MS = 8000; // a dead spot often hangs rather than fails: show the kept form after this long
const STATIC_URL = /["'](\/static\/[^"'\s]+)["']/g;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function currentUser() {
  const hit = await (await caches.open(META)).match(CURRENT);
  return hit ? (await hit.json()).user_id : null;
}

async function setUser(userId) {
  await (await caches.open(META)).put(CURRENT, new Response(JSON.stringify({ user_id: userId })));
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGES) && name !== PAGES + userId) await caches.delete(name);
  }
}

async function signOut(userId) {
  await caches.delete(PAGES + userId);
  if ((await currentUser()) === userId) await (await caches.open(META)).delete(CURRENT);
}

async function keepStatic(url) {
  const shell = await caches.open(SHELL);
  if (await shell.match(url)) return;
  const resp = await fetch(url);
  if (resp.ok) await putStatic(shell, url, resp);
}

async function putStatic(shell, url, resp) {
  // one version per file: drop the entries of the same path with another ?v=
  const path = new URL(url, self.location.origin).pathname;
  for (const old of await shell.keys()) {
    if (new URL(old.url).pathname === path && old.url !== new URL(url, self.location.origin).href) await shell.delete(old);
  }
  await shell.put(url, resp);
}

async function warm(userId, urls) {
  if ((await currentUser()) !== userId) return 0;
  const pages = await caches.open(PAGES + userId);
  let kept = 0;
  for (const url of urls) {
    try {
      const resp = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      const html = resp.ok && !resp.redirected ? await resp.text() : "";
      // keep it only if the server rendered it for this very user
      if (!html.includes(`data-user-id="${userId}"`)) continue;
      await pages.put(url, new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } }));
      kept += 1;
      for (const match of html.matchAll(STATIC_URL)) await keepStatic(match[1].replace(/&amp;/g, "&"));
    } catch (e) { /* the network went away while warming: keep what we have */ }
  }
  return kept;
}

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  const reply = (value) => event.ports[0] && event.ports[0].postMessage(value);
  let work;
  if (msg.type === "user") work = setUser(msg.user_id);
  else if (msg.type === "warm") work = warm(msg.user_id, msg.urls || []);
  else if (msg.type === "signout") work = signOut(msg.user_id);
  else if (msg.type === "claim") work = self.clients.claim(); // a page that loaded while this worker activated
  else return;
  event.waitUntil(work.then(reply, () => reply(null)));
});

async function fromShell(request) {
  const shell = await caches.open(SHELL);
  const hit = await shell.match(request);
  if (hit) return hit;
  try {
    const resp = await fetch(request);
    if (resp.ok) await putStatic(shell, request.url, resp.clone());
    return resp;
  } catch (e) {
    return (await shell.match(request, { ignoreSearch: true })) || Response.error();
  }
}

function offlineAnswer() {
  const body = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>ChoQR</title><main style='font:1.1rem sans-serif;padding:1rem'><h1>Không có mạng</h1>" +
    "<p>Trang này chưa được lưu trên máy để dùng khi không có mạng.</p><p lang=en>No connection: this page " +
    "is not kept on this tablet.</p><p><a href='/'>ChoQR</a></p></main>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function keptPage(request) {
  const userId = await currentUser();
  if (userId === null) return null;
  const pages = await caches.open(PAGES + userId);
  return (await pages.match(request, { ignoreSearch: true })) || (await pages.match("/offline/page")) || null;
}

async function page(request) {
  const network = fetch(request);
  const late = new Promise((resolve) => setTimeout(() => resolve(null), PAGE_TIMEOUT_MS));
  try {
    const resp = await Promise.race([network, late]);
    if (resp) return resp;
    const kept = await keptPage(request);
    return kept || (await network);
  } catch (e) {
    return (await keptPage(request)) || offlineAnswer();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) event.respondWith(fromShell(request));
  else if (request.mode === "navigate") event.respondWith(page(request));
});
