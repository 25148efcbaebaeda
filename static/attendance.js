/* KIM offline mark queue. A <form data-queue> is sent by this script instead of the browser:
   the mark gets a client id and the device's time, is kept in localStorage, shown at once, and
   POSTed in order (one request per tap when online). A network failure keeps it; an answer
   removes it. A failed send is tried again by itself (after 3 s, then twice as long each time
   up to a minute), when the browser says it is online, and when the page is shown again; a send
   with no answer in 20 s counts as failed (resending is safe: the server applies a client id
   once). Elements with an id in the answer replace those with the same id in the page
   (HX-Retarget: the answer goes there instead). #antrean shows how many marks wait.
   Also registers the service worker that keeps the roll call openable offline. */
(function () {
  "use strict";
  var KEY = "kim-antrean";
  var sending = false;
  var TIMEOUT_MS = 20000, FIRST_RETRY_MS = 3000, LAST_RETRY_MS = 60000;
  var retryIn = FIRST_RETRY_MS, retryTimer = null;
  /* a page that did not come through the service worker is not in its cache yet */
  var fromNetwork = !(navigator.serviceWorker && navigator.serviceWorker.controller);

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }
  function store(queue) {
    try { localStorage.setItem(KEY, JSON.stringify(queue)); } catch (e) { /* full: kept in memory only */ }
  }
  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "m" + Array.prototype.map.call(bytes, function (b) { return (b % 36).toString(36); }).join("") +
      Date.now().toString(36);
  }

  function showCount() {
    var box = document.getElementById("antrean");
    if (!box) return;
    var n = load().length;
    box.hidden = n === 0;
    box.textContent = n === 1 ? box.dataset.one : (box.dataset.many || "{n}").replace("{n}", n);
  }

  /* what a waiting mark looks like on its row: the new status label, and "menunggu" */
  function showWaiting(item) {
    show(item.row, item.status, item.label, true);
  }
  /* a refused mark: the row as it was before the tap */
  function showRefused(item) {
    show(item.row, item.was, item.wasLabel, false);
  }
  function show(rowId, status, label, waiting) {
    var row = rowId && document.getElementById(rowId);
    if (!row || !status) return;
    var tag = row.querySelector(".st");
    var before = row.dataset.status;
    row.dataset.status = status;
    row.classList.toggle("menunggu", waiting);
    if (tag) {
      tag.className = "tag st p-" + status;
      tag.textContent = label;
      var box = document.getElementById("antrean");
      tag.dataset.tunggu = box ? box.dataset.row || "" : "";
    }
    var open = row.querySelector("details[open]");
    if (open) open.open = false;
    count(before, -1);
    count(status, 1);
  }
  function count(status, delta) {
    var cell = status && document.querySelector("#hitungan .p-" + status + " strong");
    if (cell) cell.textContent = Math.max(0, parseInt(cell.textContent, 10) + delta);
  }

  function swap(html, retarget) {
    if (retarget) {
      var target = document.querySelector(retarget);
      if (target) {
        target.innerHTML = html;
        target.scrollIntoView(true);  /* the reason of a refusal, where the person looks */
      }
      return;
    }
    var doc = new DOMParser().parseFromString("<body>" + html, "text/html");
    Array.prototype.forEach.call(doc.body.children, function (el) {
      var old = el.id && document.getElementById(el.id);
      if (!old) return;
      var had = old.contains(document.activeElement) ? document.activeElement : null;
      var fresh = document.importNode(el, true);
      old.replaceWith(fresh);
      if (window.htmx && htmx.process) htmx.process(fresh);
      if (had) refocus(fresh, had);
    });
  }

  /* on screen: a closed <details> still gives its content boxes, so that is checked too */
  function shown(el) {
    return el.getClientRects().length > 0 && !el.closest("details:not([open]) > :not(summary)");
  }
  /* a tap hides or replaces the button that had the focus: keep it in the person's row, on the
     same choice when it is still shown, else on the row's first shown one (not lost to <body>) */
  function refocus(row, had) {
    if (row.contains(had) && shown(had)) return;
    var choices = Array.prototype.filter.call(row.querySelectorAll("form button, form summary"), shown);
    var pick = choices.filter(function (el) { return had.value && el.value === had.value; })[0] || choices[0];
    if (pick) pick.focus({preventScroll: true});
  }

  /* the page as it stands (every mark answered) replaces the service worker's copy, so that a
     reload without signal shows the latest state rather than the first visit's */
  /* this page as it stands (no queued marks, no search typed), to keep for an offline reload */
  function pageCopy() {
    var q = document.getElementById("q");
    if (load().length || (q && q.value !== q.defaultValue)) return null;
    var copy = document.documentElement.cloneNode(true);
    var note = copy.querySelector("#pesan");
    if (note) note.textContent = "";  /* an old message would mislead after a reload */
    return {url: location.href, html: "<!doctype html>\n" + copy.outerHTML};
  }

  function keepCopy() {
    var page = pageCopy();
    if (!page || !window.caches) return;
    caches.keys().then(function (keys) {
      keys.filter(function (k) { return k.indexOf("kim-absensi-") === 0; }).forEach(function (k) {
        caches.open(k).then(function (cache) {
          cache.put(page.url, new Response(page.html, {headers: {"Content-Type": "text/html; charset=utf-8"}}));
        });
      });
    }).catch(function () { /* no copy: the network version stays */ });
  }

  function remove(id) {
    store(load().filter(function (item) { return item.id !== id; }));
  }

  /* a weak signal fails sends without the browser ever going offline: no "online" event comes */
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryIn);
    retryIn = Math.min(retryIn * 2, LAST_RETRY_MS);
  }

  function flush() {
    if (sending) return;
    clearTimeout(retryTimer);
    var queue = load();
    if (!queue.length) { showCount(); return; }
    sending = true;
    var item = queue[0];
    var body = new URLSearchParams();
    /* the page's own token: one queued under a session that has since changed would be
       refused, and a reload (the advice of that refusal) brings a fresh one */
    var token = document.querySelector("input[name=csrf_token]");
    item.fields.forEach(function (pair) {
      body.append(pair[0], pair[0] === "csrf_token" && token ? token.value : pair[1]);
    });
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort && setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
    fetch(item.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"HX-Request": "true", "HX-Request-Type": "partial"},
      signal: abort ? abort.signal : undefined
    }).then(function (response) {
      /* signed out (sent to the sign-in page) or the server in trouble: keep it for later */
      if (response.redirected || response.status >= 500) throw new Error("not taken");
      return response.text().then(function (html) {
        clearTimeout(timer);
        /* the token was refused (400): keep the mark for after the reload the message asks for */
        var kept = response.status === 400;
        if (!kept) {
          retryIn = FIRST_RETRY_MS;
          remove(item.id);
          if (!response.ok) showRefused(item);
        }
        swap(html, response.headers.get("HX-Retarget"));
        sending = false;
        if (kept) { showCount(); return; }
        load().forEach(showWaiting);
        keepCopy();
        flush();
      });
    }).catch(function () {
      clearTimeout(timer);
      sending = false;
      showCount();
      retryLater();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-queue]")) return;
    event.preventDefault();
    var button = event.submitter;
    var fields = [];
    new FormData(form).forEach(function (value, name) { fields.push([name, String(value)]); });
    if (button && button.name) fields.push([button.name, button.value]);
    var id = newId();
    fields.push(["client_id", id], ["marked_at", String(Date.now())]);
    var row = form.closest("[data-status][id]");
    var tag = row && row.querySelector(".st");
    var item = {
      url: form.action, fields: fields, id: id,
      row: row ? row.id : null,
      status: button ? button.value : null,
      label: button ? button.dataset.label || button.textContent.trim() : "",
      was: row ? row.dataset.status : null,
      wasLabel: tag ? tag.textContent : ""
    };
    var queue = load();
    queue.push(item);
    store(queue);
    var had = document.activeElement;
    showWaiting(item);
    if (row && row.contains(had)) refocus(row, had);
    showCount();
    flush();
  });

  function start() {
    load().forEach(showWaiting);
    showCount();
    flush();
    var box = document.getElementById("antrean");
    var worker = box && box.dataset.sw;
    if (!worker || !("serviceWorker" in navigator)) return;
    var scope = worker.replace(/[^/]*$/, "");
    navigator.serviceWorker.register(worker, {scope: scope}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (!fromNetwork || !registration.active) return;
      /* opened before the worker took control: hand it this page (no second download on a
         slow link) and ask it to keep the page's files */
      var urls = [];
      document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (el) {
        urls.push(el.href || el.src);
      });
      registration.active.postMessage({simpan: urls, halaman: pageCopy()});
    }).catch(function () { /* no worker: the queue still works */ });
  }

  /* signing out clears this browser's copies (Clear-Site-Data), queued marks included: ask first */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-unsent]") && load().length &&
        !window.confirm(form.dataset.unsent)) event.preventDefault();
  }, true);

  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") flush();
  });
  document.addEventListener("htmx:after:swap", keepCopy);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
