/* KIM outbox: a report written on a weak signal waits on the phone and is sent once.
   A <form data-outbox> is sent by this script instead of the browser: its fields and photos are
   kept in IndexedDB under the form's client id, then POSTed (multipart, as the form would). A
   network failure, a server in trouble or a sign-in page keeps the report; an answer removes it.
   Sending is tried again by itself (after 3 s, then twice as long each time up to a minute),
   when the browser says it is online and when the page is shown again; a send with no answer in
   90 s counts as failed. The server stores a client id once, so a second try after a lost answer
   does no harm. Photos are downscaled on the phone first (long side 1600 px) unless the reporter
   keeps their place, which lives in the original file. #kotak-keluar says how many wait. A
   report the server refuses (a fault only it sees) goes back into the form with its message. */
(function () {
  "use strict";
  var DB = "kim-kotak-keluar", STORE = "laporan";
  var TIMEOUT_MS = 90000, FIRST_RETRY_MS = 3000, LAST_RETRY_MS = 60000, SIDE = 1600;
  var retryIn = FIRST_RETRY_MS, retryTimer = null, sending = false;
  var current = null;  /* the report this page just sent: its answer leads on, its failure waits */

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "id"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function all() { return run("readonly", function (s) { return s.getAll(); }).then(function (r) { return r || []; }); }
  function put(item) { return run("readwrite", function (s) { s.put(item); }); }
  function drop(id) { return run("readwrite", function (s) { s.delete(id); }); }

  function newId() {
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return "k" + Array.prototype.map.call(bytes, function (b) { return (b % 36).toString(36); }).join("");
  }

  function say(text, kind) {
    var box = document.getElementById("pesan");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash " + (kind || "success");
    p.textContent = text;
    box.replaceChildren(p);
  }

  function showCount() {
    var box = document.getElementById("kotak-keluar");
    if (!box) return Promise.resolve();
    return all().then(function (items) {
      var n = items.filter(function (i) { return !i.refused; }).length;
      box.hidden = n === 0;
      box.textContent = n === 1 ? box.dataset.one : (box.dataset.many || "{n}").replace("{n}", n);
    }).catch(function () {});
  }

  /* a photo made small on the phone: upright, JPEG, long side at most SIDE */
  function shrink(file) {
    if (!window.createImageBitmap || !file.size) return Promise.resolve(file);
    return createImageBitmap(file, {imageOrientation: "from-image"}).then(function (bitmap) {
      var scale = Math.min(1, SIDE / Math.max(bitmap.width, bitmap.height));
      if (scale === 1 && file.type === "image/jpeg" && file.size < 600000) return file;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], (file.name || "foto").replace(/\.\w+$/, "") + ".jpg", {type: "image/jpeg"}) : file);
        }, "image/jpeg", 0.82);
      });
    }).catch(function () { return file; });  /* not decodable here: the server says why */
  }

  function bodyOf(item) {
    var body = new FormData();
    var token = document.querySelector("input[name=csrf_token]");
    item.fields.forEach(function (f) {
      if (f[2] !== undefined) body.append(f[0], f[1], f[2]);
      else body.append(f[0], f[0] === "csrf_token" && token ? token.value : f[1]);
    });
    return body;
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryIn);
    retryIn = Math.min(retryIn * 2, LAST_RETRY_MS);
  }

  /* the server refused it: its messages, and the report back in the form when it is shown */
  function refused(item, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    item.refused = Array.prototype.map.call(doc.querySelectorAll("#laporan-form .error, #laporan-form .flash.error"),
      function (el) { return el.textContent.trim(); }).filter(Boolean);
    return put(item).then(function () { restore(); });
  }

  function restore() {
    var form = document.querySelector("form[data-outbox]");
    if (!form) return Promise.resolve();
    return all().then(function (items) {
      var item = items.filter(function (i) { return i.refused && i.url === form.action; })[0];
      if (!item) return;
      var files = new DataTransfer();
      form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (el) { el.checked = false; });
      item.fields.forEach(function (f) {
        if (f[2] !== undefined) { files.items.add(new File([f[1]], f[2], {type: f[1].type})); return; }
        if (f[0] === "csrf_token") return;
        var els = form.querySelectorAll("[name='" + f[0] + "']");
        els.forEach(function (el) {
          if (el.type === "checkbox" || el.type === "radio") { if (el.value === f[1]) el.checked = true; }
          else if (el.type !== "file") el.value = f[1];
        });
      });
      var input = form.querySelector("input[type=file][name=foto]");
      if (input && files.files.length) input.files = files.files;
      say(item.refused.join(" ") || form.dataset.refused || "", "error");
      return drop(item.id);
    }).catch(function () {});
  }

  function flush() {
    if (sending) return;
    clearTimeout(retryTimer);
    all().then(function (items) {
      var item = items.filter(function (i) { return !i.refused; })[0];
      if (!item) { showCount(); return; }
      sending = true;
      var abort = new AbortController();
      var timer = setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
      return fetch(item.url, {
        method: "POST", body: bodyOf(item), credentials: "same-origin", signal: abort.signal,
        headers: {"HX-Request": "true", "HX-Request-Type": "partial"}
      }).then(function (response) {
        clearTimeout(timer);
        if (response.redirected || response.status >= 500) throw new Error("not taken");
        return response.text().then(function (html) {
          sending = false;
          retryIn = FIRST_RETRY_MS;
          if (response.status === 400 || response.status === 413) {  /* token or size: kept, said */
            var doc = new DOMParser().parseFromString(html, "text/html");
            var text = doc.querySelector(".flash, p");
            say(text ? text.textContent.trim() : "", "error");
            return showCount();
          }
          if (response.status === 422) return refused(item, html).then(flush);
          var next = response.headers.get("HX-Redirect");
          return drop(item.id).then(function () {
            if (next && item.id === current) { location.assign(next); return; }
            var box = document.getElementById("kotak-keluar");
            say(box ? box.dataset.sent || "" : "");
            showCount();
            flush();
          });
        });
      }).catch(function () {
        clearTimeout(timer);
        sending = false;
        if (item.id === current) waiting();
        showCount();
        retryLater();
      });
    }).catch(function () { sending = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-outbox]") || !window.indexedDB || !window.fetch) return;
    event.preventDefault();
    var keep = form.querySelector("[name=keep_location]");
    var data = new FormData(form);
    var waits = [];
    data.forEach(function (value, name) {
      if (value instanceof File) {
        if (!value.size) return;
        waits.push((keep && keep.checked ? Promise.resolve(value) : shrink(value)).then(function (f) {
          return [name, f, f.name || "foto.jpg"];
        }));
      } else waits.push(Promise.resolve([name, String(value)]));
    });
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var id = data.get("client_id") || newId();
    Promise.all(waits).then(function (fields) {
      return put({id: id, url: form.action, fields: fields, at: Date.now()});
    }).then(function () {
      if (button) button.disabled = false;
      current = id;
      showCount();
      flush();
    }).catch(function () {
      /* no storage on this phone: the browser sends it as a plain form */
      if (button) button.disabled = false;
      form.removeAttribute("data-outbox");
      form.submit();
    });
  });

  /* no signal for the report just written: it waits on the phone, and the form is ready for
     the next one, with a new id */
  function waiting() {
    current = null;
    var form = document.querySelector("form[data-outbox]");
    if (!form) return;
    form.reset();
    var idField = form.querySelector("[name=client_id]");
    if (idField) idField.value = newId();
    say(form.dataset.waiting || "", "success");
  }

  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") flush();
  });
  function start() { restore().then(function () { showCount(); flush(); }); }
  if (!window.indexedDB) return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
