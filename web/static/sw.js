// yure's service worker (served as /sw.js, scope /): shows Web Push notifications and
// opens the item when one is clicked. It fetches nothing and caches nothing.
// Payload (docs/api.md §Web Push): {id, kind, title, body, url, prefs, max_intensity,
// official, info_type, topic}.

const INTENSITY = { "1": "1", "2": "2", "3": "3", "4": "4", "5-": "5弱", "5+": "5強", "6-": "6弱", "6+": "6強", "7": "7" };
const URGENT_KINDS = new Set(["eew", "tsunami"]);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/** The notification for one payload (the text is JMA's, shown as text by the system). */
function notificationOf(data) {
  const level = INTENSITY[data.max_intensity];
  const body = [level ? `最大震度${level}` : "", typeof data.body === "string" ? data.body : ""].filter(Boolean).join("　");
  return {
    title: typeof data.title === "string" && data.title ? data.title : "yure 揺れ",
    options: {
      body,
      lang: "ja",
      tag: typeof data.topic === "string" ? data.topic : undefined,
      renotify: true,
      requireInteraction: URGENT_KINDS.has(data.kind),
      icon: "/static/icons/icon-192.png",
      badge: "/static/icons/icon-192.png",
      vibrate: URGENT_KINDS.has(data.kind) ? [400, 200, 400, 200, 400] : [200],
      data: { url: sameOriginPath(data.url) },
    },
  };
}

/** Only a path of this origin is ever opened. */
function sameOriginPath(url) {
  try {
    const target = new URL(typeof url === "string" ? url : "/", self.location.origin);
    return target.origin === self.location.origin ? target.pathname + target.search : "/";
  } catch {
    return "/";
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const { title, options } = notificationOf(data);
  event.waitUntil(self.registration.showNotification(title, options));
});

async function openItem(path) {
  const url = new URL(path, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin !== self.location.origin) continue;
    let shown = null;
    try {
      shown = client.url === url ? client : await client.navigate(url);
    } catch {
      continue; // a page this worker does not control cannot be navigated from here
    }
    if (shown) {
      try {
        await shown.focus();
      } catch {
        // focus needs the click's user activation; the page is shown either way
      }
      return shown;
    }
  }
  return self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openItem(event.notification.data?.url ?? "/"));
});
