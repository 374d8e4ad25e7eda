/* Xiaowei Hub service worker (generated at build time from frontend/src/sw.template.js).
 * - precaches this build's hashed JS/CSS (immutable, cache-first);
 * - app pages (/ and /app/...) are network-first, with the last good shell as the offline
 *   fallback, so the app starts without a network and the socket catches up later;
 * - the API, the socket and everything else always go to the network. */
const VERSION = "7e54b67163db";
const ASSETS = ["/static/app/assets/AdminScreen-Cvh13gVx.js","/static/app/assets/AdminScreen-uIpKoD3U.css","/static/app/assets/DocEditorPage-B8ROIZyF.js","/static/app/assets/DocEditorPage-NYt3VmyK.css","/static/app/assets/RecordsScreen-CpG6T9wo.css","/static/app/assets/RecordsScreen-WAXsqIuU.js","/static/app/assets/main-BfXm4kO4.js","/static/app/assets/main-CXUHF_fj.css"];
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

/* --- Web Push (docs/notifications.md) -------------------------------------------------------
 * The server sends {title, body, path, tag, count}, encrypted end to end (aes128gcm): the push
 * service never sees it. A notification with the same tag (one conversation) replaces the
 * previous one instead of piling up. Clicking it opens the message: an open app window is
 * focused and told to route there (no reload); otherwise a new window opens at the path. */
const APP_ICON = "/static/app/icon-192.png";

function pushData(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch {
    return { body: event.data.text() };
  }
}

self.addEventListener("push", (event) => {
  const data = pushData(event);
  const title = typeof data.title === "string" && data.title ? data.title : "小微 Hub";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === "string" ? data.body : "",
      tag: typeof data.tag === "string" ? data.tag : "hub",
      renotify: true,
      icon: APP_ICON,
      badge: APP_ICON,
      data: { path: typeof data.path === "string" ? data.path : "/" },
    }),
  );
});

function samePagePath(path) {
  // Only paths of this site: a payload can never send a click to another origin.
  const url = new URL(typeof path === "string" ? path : "/", self.location.origin);
  return url.origin === self.location.origin ? url : new URL("/", self.location.origin);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = samePagePath(event.notification.data && event.notification.data.path);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const app = windows.find((w) => {
        const here = new URL(w.url);
        return here.origin === self.location.origin && isAppPage(here);
      });
      if (app) {
        app.postMessage({ type: "hub.open", path: url.pathname });
        return app.focus();
      }
      return self.clients.openWindow(url.href);
    }),
  );
});

// The browser replaced the subscription (key rotation, expiry): nothing to do here; the app
// re-subscribes on its next start (notify/push.ts) and the server drops the old endpoint on 410.
