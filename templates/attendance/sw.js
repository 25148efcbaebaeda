/* KIM service worker: the roll call stays openable after a reload without signal.
   The roll call and scan pages: network first, a copy kept, the copy when the network fails.
   Their static files (this site's /static/ and the htmx CDN): cache first. POSTs: never touched. */
"use strict";
const CACHE = "kim-absensi-{{ version }}";
const SCOPE = new URL("./", self.location).pathname;
const CDN = "{{ htmx_origin }}";
const MATCH = {ignoreVary: true, ignoreSearch: false};

function isAsset(url) {
  return (url.origin === self.location.origin && url.pathname.startsWith("/static/")) ||
    (CDN !== "" && url.origin === CDN);
}

/* only the pages used in the hall: a session's roll call and its scan page (settings,
   certificates and the like always come from the network) */
const HALL_PAGE = /^sesi\/\d+(\/pindai)?$/;

function isPage(url) {
  return url.origin === self.location.origin && url.pathname.startsWith(SCOPE) &&
    HALL_PAGE.test(url.pathname.slice(SCOPE.length));
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) await cache.put(request.url, response.clone());
    return response;
  } catch (error) {
    const copy = await cache.match(request.url, MATCH);
    if (copy) return copy;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const copy = await cache.match(request, MATCH);
  if (copy) return copy;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("kim-absensi-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (request.mode === "navigate" && isPage(url)) event.respondWith(networkFirst(request));
  else if (isAsset(url)) event.respondWith(cacheFirst(request));
});

/* A page opened before this worker took control hands over its own copy (no refetch) and asks
   it to keep the page's files. */
self.addEventListener("message", (event) => {
  const urls = (event.data && event.data.simpan) || [];
  const page = event.data && event.data.halaman;
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all([
    page && isPage(new URL(page.url, self.location))
      ? cache.put(page.url, new Response(page.html, {headers: {"Content-Type": "text/html; charset=utf-8"}}))
      : null,
    ...urls.map((href) => {
      const url = new URL(href, self.location);
      if (!isPage(url) && !isAsset(url)) return null;
      const request = new Request(url.href, isAsset(url) && url.origin !== self.location.origin
        ? {mode: "cors", credentials: "omit"} : {credentials: "same-origin"});
      return cache.match(request, MATCH)
        .then((copy) => copy ? null : cache.add(request))
        .catch(() => null);
    })])));
});
