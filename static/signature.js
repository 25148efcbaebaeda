/* Signature pad (templates/attendance/_signature_pad.html): strokes drawn with touch, mouse or
   pen on a canvas, kept as SVG path data in the hidden input "tanda_tangan": absolute
   "M x y L x y …" with integers inside a 300 × 100 box, at most 8 KB (what the server's
   clean_signature accepts). Pads added later (htmx swaps) are set up as they appear. */
(function () {
  "use strict";
  var W = 300, H = 100, MAX = 8000, GAPS = [1.5, 3, 5, 8, 12];

  function parse(path) {
    var strokes = [], re = /([ML]) ?(-?\d+(?:\.\d)?) (-?\d+(?:\.\d)?)/g, m;
    while ((m = re.exec(path || ""))) {
      if (m[1] === "M" || !strokes.length) strokes.push([]);
      strokes[strokes.length - 1].push([+m[2], +m[3]]);
    }
    return strokes;
  }

  function far(a, b, gap) {
    var dx = a[0] - b[0], dy = a[1] - b[1];
    return dx * dx + dy * dy >= gap * gap;
  }

  function thin(points, gap) {
    var kept = [points[0]];
    for (var i = 1; i < points.length; i++) {
      if (far(points[i], kept[kept.length - 1], gap) || i === points.length - 1) kept.push(points[i]);
    }
    return kept;
  }

  function text(strokes, gap) {
    return strokes.map(function (stroke) {
      var points = thin(stroke, gap);
      if (points.length === 1) points.push(points[0]); // a dot: a line of no length
      return points.map(function (p, i) {
        return (i ? "L" : "M") + Math.round(p[0]) + " " + Math.round(p[1]);
      }).join("");
    }).join("");
  }

  /* The path data, thinned harder until it fits; the last strokes go if even that is not enough. */
  function serialise(strokes) {
    for (var i = 0; i < GAPS.length; i++) {
      var out = text(strokes, GAPS[i]);
      if (out.length <= MAX) return out;
    }
    return strokes.length > 1 ? serialise(strokes.slice(0, -1)) : "";
  }

  function setUp(pad) {
    if (pad.dataset.ready) return;
    pad.dataset.ready = "1";
    var fieldset = pad.querySelector("fieldset"),
      canvas = pad.querySelector("canvas"),
      input = pad.querySelector("input[name=tanda_tangan]"),
      missing = pad.querySelector("[data-pad-missing]"),
      fallback = pad.querySelector("[data-pad-fallback]");
    if (fallback) fallback.hidden = true;
    fieldset.hidden = false;
    var ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 3);
    canvas.width = W * ratio;
    canvas.height = H * ratio;
    var ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.lineWidth = 2;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = "#1b1f24";
    var strokes = parse(input.value), current = null;

    function line(a, b) {
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    }
    function redraw() {
      ctx.clearRect(0, 0, W, H);
      strokes.forEach(function (stroke) {
        for (var i = 0; i < stroke.length; i++) line(stroke[i ? i - 1 : 0], stroke[i]);
      });
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      var x = ((event.clientX - box.left) * W) / box.width, y = ((event.clientY - box.top) * H) / box.height;
      return [Math.round(Math.min(Math.max(x, 0), W)), Math.round(Math.min(Math.max(y, 0), H))];
    }
    function end() {
      if (!current) return;
      current = null;
      input.value = serialise(strokes);
    }

    redraw();
    canvas.addEventListener("pointerdown", function (event) {
      if (event.button > 0) return;
      event.preventDefault();
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
      line(current[0], current[0]);
      if (missing) missing.hidden = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) return;
      var p = point(event), last = current[current.length - 1];
      if (!far(p, last, GAPS[0])) return;
      current.push(p);
      line(last, p);
    });
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    pad.querySelector("[data-pad-clear]").addEventListener("click", function () {
      strokes = [];
      current = null;
      input.value = "";
      redraw();
    });
  }

  function scan(root) {
    if (root.matches && root.matches("[data-signature-pad]")) setUp(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-signature-pad]").forEach(setUp);
  }

  /* A required pad keeps its form (and htmx, which listens on the form) from sending it empty. */
  document.addEventListener("submit", function (event) {
    var pads = event.target.querySelectorAll("[data-signature-pad][data-required][data-ready]");
    for (var i = 0; i < pads.length; i++) {
      if (pads[i].querySelector("input[name=tanda_tangan]").value) continue;
      event.preventDefault();
      event.stopPropagation();
      var missing = pads[i].querySelector("[data-pad-missing]");
      if (missing) missing.hidden = false;
      pads[i].scrollIntoView({ block: "center" });
      return;
    }
  }, true);

  scan(document);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(scan);
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
