// The app's service worker: keeps the routine pack, the report form and the app's own files
// on the device. Pages are fetched from the network first; only the kept pages are stored,
// never a page or an answer with incident data. Reports made offline are kept by the page
// (static/js/offline.js), not here.
"use strict";

var VERSION = "{{ version }}";
var CACHE = "runbook-" + VERSION;
var PAGES = {{ pages|safe }};
var STATIC = {{ static|safe }};
var FALLBACK = PAGES[0];

function keep(cache, url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
    if (response.ok && !response.redirected) {
      return cache.put(url, response);
    }
    throw new Error("not kept");
  }).catch(function () {
    // Signed out or offline: keep the copy an older version of this worker had.
    return caches.match(url).then(function (old) {
      return old ? cache.put(url, old) : undefined;
    });
  });
}

// Any page that opens (signed in, say, after the worker was installed from the login page)
// is a chance to store a kept page the device does not have yet.
function keepMissing() {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(PAGES.map(function (url) {
      return cache.match(url).then(function (hit) {
        return hit || keep(cache, url);
      });
    }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    var files = STATIC.map(function (url) {
      return cache.add(url).catch(function () {});
    });
    return Promise.all(files.concat(PAGES.map(function (url) { return keep(cache, url); })));
  }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("runbook-") === 0 && name !== CACHE;
    }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(function () {
    return self.clients.claim();
  }));
});

// A page asks for fresh copies of the kept pages (at most every few minutes, see offline.js).
self.addEventListener("message", function (event) {
  if (event.data === "refresh") {
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      return Promise.all(PAGES.map(function (url) { return keep(cache, url); }));
    }));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (STATIC.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (request.mode !== "navigate") {
    return;
  }
  var kept = PAGES.indexOf(url.pathname) !== -1;
  event.respondWith(fetch(request).then(function (response) {
    if (kept && response.ok && !response.redirected) {
      var copy = response.clone();
      event.waitUntil(caches.open(CACHE).then(function (cache) {
        return cache.put(url.pathname, copy);
      }));
    } else if (response.ok && !response.redirected) {
      event.waitUntil(keepMissing());
    }
    return response;
  }).catch(function () {
    return caches.match(kept ? url.pathname : FALLBACK).then(function (hit) {
      return hit || caches.match(FALLBACK);
    }).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
