// mkdocs-tfjs: this site's `threads` option is off. A reader's browser that kept the
// isolating service worker of an earlier build (`threads: true`, assets/isolation.js)
// fetches this one in its place when it next checks that worker for an update (on a
// visit): it unregisters itself and reloads the pages it served, which then load
// without the isolation headers. A browser that never had the worker never loads it.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  await self.registration.unregister();
  for (const page of await self.clients.matchAll({ type: "window" })) page.navigate(page.url);
})()));
