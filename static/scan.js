// The scan page's camera: read ticket QR codes and send each through the manual form, so the
// offline queue (attendance.js) handles it like a typed code. BarcodeDetector where the browser
// has it, else jsQR from the CDN with its integrity hash. Without JavaScript only the form shows.
(function () {
  "use strict";
  var box = document.getElementById("kamera");
  var form = document.getElementById("pindai");
  if (!box || !form) return;
  var button = document.getElementById("mulai-kamera");
  var video = document.getElementById("layar");
  var note = document.getElementById("kamera-pesan");
  var field = form.elements.kode;
  var startLabel = button.textContent;
  var stream = null, detect = null, timer = null, canvas = null;
  var lastCode = "", lastAt = 0, pausedUntil = 0, fromCamera = false;

  function say(text) { note.textContent = text || ""; }

  function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    button.textContent = startLabel;
  }

  function found(text) {
    var now = Date.now();
    if (now < pausedUntil) return;
    if (text === lastCode && now - lastAt < 5000) return; // the same ticket still in view
    lastCode = text; lastAt = now; pausedUntil = now + 2000;
    field.value = text;
    fromCamera = true;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function tick() {
    timer = null;
    if (!stream) return;
    Promise.resolve(video.readyState >= 2 ? detect() : null).then(function (text) {
      if (text) found(text);
    }, function () {}).then(function () {
      if (stream) timer = setTimeout(tick, 250);
    });
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) return null;
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function () {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        });
      };
    }, function () { return null; });
  }

  function loadJsQR() {
    return new Promise(function (resolve, reject) {
      if (window.jsQR) { resolve(); return; }
      var script = document.createElement("script");
      script.src = box.dataset.jsqr;
      script.integrity = box.dataset.jsqrSri;
      script.crossOrigin = "anonymous";
      script.onload = function () { window.jsQR ? resolve() : reject(); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function canvasDetector() {
    return loadJsQR().then(function () {
      canvas = canvas || document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function () {
        // a smaller frame decodes faster on a cheap phone and is plenty for a ticket held up close
        var scale = Math.min(1, 480 / Math.max(video.videoWidth, video.videoHeight));
        var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
        if (!w || !h) return null;
        canvas.width = w; canvas.height = h;
        context.drawImage(video, 0, 0, w, h);
        var code = window.jsQR(context.getImageData(0, 0, w, h).data, w, h,
          { inversionAttempts: "dontInvert" });
        return code && code.data ? code.data : null;
      };
    });
  }

  function start() {
    say("");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        button.textContent = box.dataset.stop;
        video.play().catch(function () {});
        var ready = detect ? Promise.resolve(detect)
          : nativeDetector().then(function (d) { return d || canvasDetector(); });
        return ready.then(function (detector) {
          detect = detector;
          if (stream) tick();
        }, function () {
          stop();
          say(box.dataset.unsupported);
        });
      }, function () {
        stop();
        say(box.dataset.refused);
      });
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    button.hidden = false;
    button.addEventListener("click", function () { stream ? stop() : start(); });
  } else {
    say(box.dataset.refused);
  }
  document.addEventListener("visibilitychange", function () { if (document.hidden) stop(); });

  // clear the field for the next person once the form has been read (and, after a typed code,
  // put the cursor back; after a scan the phone's keyboard stays away)
  form.addEventListener("submit", function () {
    var typed = !fromCamera;
    fromCamera = false;
    setTimeout(function () { field.value = ""; if (typed) field.focus(); }, 0);
  });
})();
