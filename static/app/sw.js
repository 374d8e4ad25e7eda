/* Xiaowei Hub service worker (generated at build time from frontend/src/sw.template.js).
 * - precaches this build's hashed JS/CSS (immutable, cache-first);
 * - app pages (/ and /app/...) are network-first, with the last good shell as the offline
 *   fallback, so the app starts without a network and the socket catches up later;
 * - the API, the socket and everything else always go to the network. */
const VERSION = "35a7944866d4";
const ASSETS = ["/static/app/assets/main-CXTM4-Z8.css","/static/app/assets/main-Ctyd96MZ.js"];
const CACHE = `hub-shell-${VERSION}`;
const SHELL_KEY = "/__shell__";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("hub-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isAppPage(url) {
  return url.pathname === "/" || url.pathname.startsWith("/app/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate" && url.pathname.startsWith("/accounts/logout")) {
    // Signing out forgets the cached (personal) shell.
    event.waitUntil(caches.open(CACHE).then((cache) => cache.delete(SHELL_KEY)));
    return;
  }
  if (request.mode === "navigate" && isAppPage(url)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected && response.type === "basic") {
            const copy = response.clone();
            event.waitUntil(caches.open(CACHE).then((cache) => cache.put(SHELL_KEY, copy)));
          }
          return response;
        })
        .catch(() => caches.open(CACHE).then((cache) => cache.match(SHELL_KEY)).then((hit) => hit || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith("/static/app/assets/")) {
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match(request).then(
          (hit) =>
            hit ||
            fetch(request).then((response) => {
              if (response.ok) cache.put(request, response.clone());
              return response;
            }),
        ),
      ),
    );
  }
});
