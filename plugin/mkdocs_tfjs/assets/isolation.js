// mkdocs-tfjs, plugin option `threads: true`: a service worker at the site's root
// that makes the site's pages with widgets cross-origin isolated where the host sends
// no isolation headers (GitHub Pages), so that TF.js's WebAssembly backend may run
// threads: they need SharedArrayBuffer, which a browser gives an isolated page only.
//
// It adds Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy to the pages with
// widgets (PAGES, which the build writes in: their URLs from the site's root); every
// other request, other pages of the site and any site under the same root on the host
// (other project sites of a GitHub user site) goes to the network untouched. COEP
// `credentialless` keeps a page's cross-origin images, fonts and scripts that send no
// Cross-Origin-Resource-Policy header (they are fetched without cookies); a browser
// without it (Safari) is not isolated, and its pages run single-threaded.
// runtime.js registers it and reloads the first page once, as it comes under it; a build
// with `threads` off writes isolation-retired.js under this worker's name instead.

const PAGES = [];
const SCOPE = new URL(self.registration.scope).pathname;

function withWidgets(url) {
  const path = new URL(url).pathname;
  if (!path.startsWith(SCOPE)) return false;
  const page = decodeURIComponent(path.slice(SCOPE.length));
  return PAGES.includes(page.endsWith("index.html") ? page.slice(0, -"index.html".length) : page);
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate" || !withWidgets(event.request.url)) return;
  event.respondWith(fetch(event.request).then((response) => {
    // A redirect or an opaque answer cannot be rewritten; the browser follows it as it is.
    if (response.type === "opaqueredirect" || response.status === 0) return response;
    const headers = new Headers(response.headers);
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set("Cross-Origin-Embedder-Policy", "credentialless");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }));
});
