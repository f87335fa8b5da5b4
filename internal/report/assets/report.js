// The gap report page: an interactive map drawn on a canvas and tables
// that sort, filter and page, all from the JSON model embedded in the page
// (see pagedata.go). It needs nothing from the network.
(function () {
  "use strict";
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById("report-data").textContent);

  // ---- integer streams (encode.go) ----
  var ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var VAL = new Int8Array(128).fill(-1);
  for (var a = 0; a < ALPHA.length; a++) VAL[ALPHA.charCodeAt(a)] = a;
  function ints(s) {
    var out = new Int32Array(s.length), n = 0, u = 0, mul = 1;
    for (var i = 0; i < s.length; i++) {
      var c = VAL[s.charCodeAt(i)];
      u += (c & 31) * mul;
      if (c & 32) { mul *= 32; continue; }
      out[n++] = u % 2 ? -(u + 1) / 2 : u / 2;
      u = 0; mul = 1;
    }
    return out.subarray(0, n);
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function escHTML(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;";
    });
  }
  function fmtPct(bp) { return (bp / 100).toFixed(1); }
  function fmtMi(t) { return t < 0 ? "" : (t / 10).toFixed(1); }

  var Q = D.q, C = D.counties, NC = C.fips.length, layers = D.layers;
  // Layers are disciplines and, when the report has them, services.
  var hasServices = layers.some(function (L) { return L.kind === "service"; });
  var subjectLabel = hasServices ? "Discipline or service" : "Discipline";

  // ---- projection (layout.go) ----
  var panels = D.panels.map(function (p) {
    return { p: p, shades: null, borders: null, outline: null, counties: [] };
  });
  function project(p, lon, lat, out) {
    if (p.wrap && lon > 0) lon -= 360;
    out[0] = p.x + ((lon - p.lon0) * p.cos - p.minX) * p.scale;
    out[1] = p.y + (p.maxY - lat) * p.scale;
  }
  function unproject(p, x, y) {
    var lon = ((x - p.x) / p.scale + p.minX) / p.cos + p.lon0;
    if (lon < -180) lon += 360;
    return [lon, p.maxY - (y - p.y) / p.scale];
  }

  // ---- counties: projected rings and bounds ----
  var rings = new Array(NC), bounds = new Float64Array(NC * 4);
  (function () {
    var g = ints(C.geom), k = 0, x = 0, y = 0, pt = [0, 0];
    for (var c = 0; c < NC; c++) {
      var p = C.panel[c] >= 0 ? D.panels[C.panel[c]] : null, nr = g[k++], rs = [];
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var r = 0; r < nr; r++) {
        var n = g[k++], ring = new Float32Array(n * 2);
        for (var i = 0; i < n; i++) {
          x += g[k++]; y += g[k++];
          if (p) project(p, x / Q, y / Q, pt);
          ring[2 * i] = pt[0]; ring[2 * i + 1] = pt[1];
          if (pt[0] < x0) x0 = pt[0];
          if (pt[0] > x1) x1 = pt[0];
          if (pt[1] < y0) y0 = pt[1];
          if (pt[1] > y1) y1 = pt[1];
        }
        rs.push(ring);
      }
      rings[c] = rs;
      bounds.set([x0, y0, x1, y1], 4 * c);
      if (p) panels[C.panel[c]].counties.push(c);
    }
  })();
  function ringPath(path, ring) {
    path.moveTo(ring[0], ring[1]);
    for (var i = 2; i < ring.length; i += 2) path.lineTo(ring[i], ring[i + 1]);
    path.closePath();
  }

  // ---- layers: shade per county, cells, providers ----
  var NB = D.bins.length;
  function binOf(L, r) {
    var rows = L.rows;
    if (rows.pass[r]) return 0;
    var gap = (rows.req[r] - rows.pct[r]) / 100;
    return gap < 5 ? 1 : gap < 15 ? 2 : gap < 40 ? 3 : 4;
  }
  var CELL_SHADES = [[1, 0.7], [3, 0.8], [10, 0.9], [50, 1]];
  layers.forEach(function (L) {
    L.rowOf = new Int32Array(NC).fill(-1);
    L.shade = new Int8Array(NC).fill(NB);
    for (var r = 0; r < L.rows.county.length; r++) {
      L.rowOf[L.rows.county[r]] = r;
      L.shade[L.rows.county[r]] = binOf(L, r);
    }
  });
  function decodeCells(L) {
    if (L.cellsBy) return;
    var s = ints(L.cells), k = 0, size = D.cellSize;
    L.cellsBy = [];
    L.cellIndex = new Map();
    D.panels.forEach(function (p, pi) {
      var n = s[k++], iy = 0, ix = 0, pt = [0, 0], pt2 = [0, 0];
      var xy = new Float32Array(n * 4), cnt = new Int32Array(n);
      for (var i = 0; i < n; i++) {
        iy += s[k++]; ix += s[k++]; cnt[i] = s[k++];
        project(p, ix * size, (iy + 1) * size, pt);
        project(p, (ix + 1) * size, iy * size, pt2);
        xy[4 * i] = pt[0]; xy[4 * i + 1] = pt[1]; xy[4 * i + 2] = pt2[0]; xy[4 * i + 3] = pt2[1];
        L.cellIndex.set(iy * 100000 + ix, cnt[i]);
      }
      L.cellsBy.push({ xy: xy, n: cnt });
    });
  }
  function decodeProviders(L) {
    if (L.provBy) return;
    var s = ints(L.providers), k = 0;
    L.provBy = [];
    D.panels.forEach(function (p) {
      var n = s[k++], x = 0, y = 0, pt = [0, 0], xy = new Float32Array(n * 2);
      for (var i = 0; i < n; i++) {
        x += s[k++]; y += s[k++];
        project(p, x / Q, y / Q, pt);
        xy[2 * i] = pt[0]; xy[2 * i + 1] = pt[1];
      }
      L.provBy.push(xy);
    });
  }
  function panelPaths(L) {
    if (L.paths) return L.paths;
    L.paths = panels.map(function (P) {
      var shades = [];
      for (var b = 0; b <= NB; b++) shades.push(null);
      P.counties.forEach(function (c) {
        var b = L.shade[c];
        if (!shades[b]) shades[b] = new Path2D();
        rings[c].forEach(function (r) { ringPath(shades[b], r); });
      });
      return shades;
    });
    return L.paths;
  }
  panels.forEach(function (P, pi) {
    P.borders = new Path2D();
    P.counties.forEach(function (c) { rings[c].forEach(function (r) { ringPath(P.borders, r); }); });
    P.outline = new Path2D();
    var s = ints(D.panels[pi].outline), k = 0, x = 0, y = 0, pt = [0, 0], n = s[k++];
    for (var l = 0; l < n; l++) {
      var m = s[k++];
      for (var i = 0; i < m; i++) {
        x += s[k++]; y += s[k++];
        project(P.p, x / Q, y / Q, pt);
        if (i === 0) P.outline.moveTo(pt[0], pt[1]); else P.outline.lineTo(pt[0], pt[1]);
      }
    }
  });

  // ---- the map ----
  var host = document.getElementById("map");
  var current = 0;
  var showProviders = true;
  var controls = el("div", { "class": "controls" });
  var fs = el("fieldset", { "class": "layers" });
  fs.appendChild(el("legend", null, "Show"));
  layers.forEach(function (L, i) {
    var lab = el("label"), inp = el("input", { type: "radio", name: "layer", value: L.key });
    if (i === 0) inp.checked = true;
    inp.addEventListener("change", function () { if (inp.checked) { current = i; hideTip(); draw(); } });
    lab.appendChild(inp);
    lab.appendChild(document.createTextNode(" " + L.name + " (" + L.key + ")"));
    fs.appendChild(lab);
  });
  controls.appendChild(fs);
  var zoom = el("div", { "class": "zoom" });
  var zin = el("button", { type: "button", "aria-label": "Zoom in" }, "+");
  var zout = el("button", { type: "button", "aria-label": "Zoom out" }, "\u2212");
  var zfit = el("button", { type: "button", "aria-label": "Fit the map to the plan" }, "Fit");
  zoom.appendChild(zin); zoom.appendChild(zout); zoom.appendChild(zfit);
  controls.appendChild(zoom);
  var provLab = el("label"), provBox = el("input", { type: "checkbox" });
  provBox.checked = true;
  provBox.addEventListener("change", function () { showProviders = provBox.checked; draw(); });
  provLab.appendChild(provBox); provLab.appendChild(document.createTextNode(" providers"));
  controls.appendChild(provLab);
  host.appendChild(controls);
  var canvas = el("canvas", { "class": "map-canvas", tabindex: "0", role: "img" });
  host.appendChild(canvas);
  var tip = el("div", { "class": "tip", role: "status" });
  tip.hidden = true;
  host.appendChild(tip);
  host.appendChild(el("p", { "class": "hint" },
    "Drag to pan; wheel, pinch, the buttons or + and \u2212 keys to zoom; arrow keys pan; 0 fits. Point at (or tap) a county or a cell for details, or pick a county\u2019s name in a table below."));
  var legend = el("ul", { "class": "legend" });
  function legendItem(style, text) {
    var li = el("li"), sw = el("span", { "class": "sw", style: style });
    li.appendChild(sw); li.appendChild(document.createTextNode(text)); legend.appendChild(li);
  }
  D.bins.forEach(function (b) { legendItem("background:" + b.color, b.label); });
  legendItem("background:" + D.noMembers, "no members");
  legendItem("background:#2d004b;opacity:.7", "unserved members (grid cell, darker = more)");
  legendItem("background:#1f4e9c;border-radius:50%", "counting provider");
  legendItem("border:0;border-top:2px solid #4d4d4d;height:0", "state outline");
  host.appendChild(legend);

  var ctx = canvas.getContext("2d");
  var view = { k: 1, x: 0, y: 0 }, fitK = 1, cssW = 0, cssH = 0, dpr = 1;
  function resize() {
    var w = canvas.clientWidth || host.clientWidth;
    if (!w) return;
    var h = Math.round(Math.max(220, Math.min(w * D.height / D.width, window.innerHeight * 0.8)));
    dpr = window.devicePixelRatio || 1;
    if (w === cssW && h === cssH && canvas.width === Math.round(w * dpr)) return;
    canvas.style.height = h + "px";
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    var first = cssW === 0;
    cssW = w; cssH = h;
    var k = Math.min(w / D.width, h / D.height);
    if (first || view.k <= fitK * 1.0001) fit(); else fitK = k;
  }
  function fit() {
    fitK = Math.min(cssW / D.width, cssH / D.height);
    view.k = fitK;
    view.x = (cssW - D.width * fitK) / 2;
    view.y = (cssH - D.height * fitK) / 2;
  }
  function zoomAt(f, sx, sy) {
    var k = Math.max(fitK, Math.min(fitK * 256, view.k * f));
    f = k / view.k;
    view.x = sx - (sx - view.x) * f;
    view.y = sy - (sy - view.y) * f;
    view.k = k;
    clampView();
    requestDraw();
  }
  function clampView() {
    var w = D.width * view.k, h = D.height * view.k, m = 40;
    view.x = Math.min(cssW - m, Math.max(m - w, view.x));
    view.y = Math.min(cssH - m, Math.max(m - h, view.y));
  }
  var pending = false;
  function requestDraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  }

  function draw() {
    resize();
    var L = layers[current];
    if (!L) return;
    decodeCells(L);
    if (showProviders) decodeProviders(L);
    var paths = panelPaths(L), k = view.k;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (var pi = 0; pi < panels.length; pi++) {
      var P = panels[pi], p = P.p;
      var sx0 = view.x + p.x * k, sy0 = view.y + p.y * k, sw = p.w * k, sh = p.h * k;
      if (sx0 > cssW || sy0 > cssH || sx0 + sw < 0 || sy0 + sh < 0) { drawLabel(p, sx0, sy0); continue; }
      ctx.save();
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.beginPath(); ctx.rect(sx0, sy0, sw, sh); ctx.clip();
      ctx.setTransform(k * dpr, 0, 0, k * dpr, view.x * dpr, view.y * dpr);
      for (var b = 0; b <= NB; b++) {
        if (!paths[pi][b]) continue;
        ctx.fillStyle = b < NB ? D.bins[b].color : D.noMembers;
        ctx.fill(paths[pi][b]);
      }
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 0.5 / k; ctx.lineJoin = "round";
      ctx.stroke(P.borders);
      ctx.strokeStyle = "#4d4d4d"; ctx.lineWidth = 1.1 / k;
      ctx.stroke(P.outline);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawCells(L.cellsBy[pi], k);
      if (showProviders) drawProviders(L.provBy[pi], k);
      ctx.restore();
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1;
      ctx.strokeRect(sx0, sy0, sw, sh);
      drawLabel(p, sx0, sy0);
    }
    canvas.dataset.zoom = (view.k / fitK).toFixed(3);
    canvas.setAttribute("aria-label", "Map of " + L.name + " access by county, zoom " + (view.k / fitK).toFixed(1) + "\u00d7");
  }
  // A panel's name, inside its top-left corner on a white ground, shrunk
  // or cut to the panel's width so that names never run into each other.
  function drawLabel(p, sx, sy) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    var avail = p.w * view.k - 8, size = 12, text = p.name;
    if (avail < 20) return;
    ctx.font = size + "px sans-serif";
    while (size > 9 && ctx.measureText(text).width > avail) { size--; ctx.font = size + "px sans-serif"; }
    while (text.length > 2 && ctx.measureText(text).width > avail) text = text.slice(0, -2) + "\u2026";
    var x = Math.max(sx, 0) + 1, y = Math.max(sy, 0) + 1, w = ctx.measureText(text).width;
    if (sx + p.w * view.k < x + w || sy + p.h * view.k < y + size + 4) return;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x, y, w + 6, size + 5);
    ctx.fillStyle = "#333";
    ctx.textBaseline = "top";
    ctx.fillText(text, x + 3, y + 3);
  }
  var MIN_CELL = 4;
  function drawCells(cs, k) {
    var xy = cs.xy, n = cs.n, m = n.length;
    ctx.strokeStyle = "rgba(255,255,255,0.8)"; ctx.lineWidth = 0.75;
    for (var s = 0; s < CELL_SHADES.length; s++) {
      var lo = CELL_SHADES[s][0], hi = s + 1 < CELL_SHADES.length ? CELL_SHADES[s + 1][0] : Infinity;
      ctx.fillStyle = "rgba(45,0,75," + CELL_SHADES[s][1] + ")";
      ctx.beginPath();
      for (var i = 0; i < m; i++) {
        if (n[i] < lo || n[i] >= hi) continue;
        var x0 = view.x + xy[4 * i] * k, y0 = view.y + xy[4 * i + 1] * k;
        var x1 = view.x + xy[4 * i + 2] * k, y1 = view.y + xy[4 * i + 3] * k;
        if (x1 < -MIN_CELL || y1 < -MIN_CELL || x0 > cssW + MIN_CELL || y0 > cssH + MIN_CELL) continue;
        var w = x1 - x0, h = y1 - y0;
        if (w < MIN_CELL) { x0 -= (MIN_CELL - w) / 2; w = MIN_CELL; }
        if (h < MIN_CELL) { y0 -= (MIN_CELL - h) / 2; h = MIN_CELL; }
        ctx.rect(x0, y0, w, h);
      }
      ctx.fill();
      ctx.stroke();
    }
  }
  function drawProviders(xy, k) {
    ctx.fillStyle = "rgba(31,78,156,0.8)";
    ctx.beginPath();
    var r = Math.min(3, 0.8 + 0.4 * Math.log2(view.k / fitK));
    for (var i = 0; i < xy.length; i += 2) {
      var x = view.x + xy[i] * k, y = view.y + xy[i + 1] * k;
      if (x < -r || y < -r || x > cssW + r || y > cssH + r) continue;
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    }
    ctx.fill();
  }

  // hover and tap details
  function inRing(r, x, y) {
    var inside = false;
    for (var i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
      var xi = r[i], yi = r[i + 1], xj = r[j], yj = r[j + 1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function countyAt(cx, cy) {
    for (var pi = 0; pi < panels.length; pi++) {
      var P = panels[pi], p = P.p;
      if (cx < p.x || cy < p.y || cx > p.x + p.w || cy > p.y + p.h) continue;
      for (var j = 0; j < P.counties.length; j++) {
        var c = P.counties[j], b = 4 * c;
        if (cx < bounds[b] || cy < bounds[b + 1] || cx > bounds[b + 2] || cy > bounds[b + 3]) continue;
        var inside = false;
        rings[c].forEach(function (r) { if (inRing(r, cx, cy)) inside = !inside; });
        if (inside) return { panel: pi, county: c };
      }
      return { panel: pi, county: -1 };
    }
    return null;
  }
  function cellAt(L, pi, cx, cy) {
    var p = D.panels[pi], ll = unproject(p, cx, cy), size = D.cellSize;
    var iy = Math.floor(ll[1] / size + 1e-9), ix = Math.floor(ll[0] / size + 1e-9);
    var n = L.cellIndex.get(iy * 100000 + ix);
    if (n) return n;
    // cells are drawn at least MIN_CELL pixels wide: look around
    var reach = Math.ceil(MIN_CELL / 2 / (size * p.scale * p.cos * view.k));
    for (var dy = -reach; dy <= reach; dy++)
      for (var dx = -reach; dx <= reach; dx++) {
        var m = L.cellIndex.get((iy + dy) * 100000 + ix + dx);
        if (m) return m;
      }
    return 0;
  }
  // showCounty frames county c on the map, switches to layer li and opens
  // its details: what a table's county button does.
  function showCounty(c, li) {
    if (C.panel[c] < 0) return;
    if (li !== current) {
      current = li;
      fs.querySelectorAll("input")[li].checked = true;
    }
    var b = 4 * c, w = Math.max(bounds[b + 2] - bounds[b], 1), h = Math.max(bounds[b + 3] - bounds[b + 1], 1);
    view.k = Math.max(fitK, Math.min(fitK * 256, 0.5 * Math.min(cssW / w, cssH / h)));
    var cx = (bounds[b] + bounds[b + 2]) / 2, cy = (bounds[b + 1] + bounds[b + 3]) / 2;
    view.x = cssW / 2 - cx * view.k;
    view.y = cssH / 2 - cy * view.k;
    clampView();
    canvas.scrollIntoView({ block: "center" });
    draw();
    // a point inside the county, near the middle of its largest ring
    var best = null, area = -1;
    rings[c].forEach(function (r) {
      var a = 0;
      for (var i = 0, j = r.length - 2; i < r.length; j = i, i += 2) a += (r[j] - r[i]) * (r[j + 1] + r[i + 1]);
      if (Math.abs(a) > area) { area = Math.abs(a); best = r; }
    });
    var px = cx, py = cy;
    if (best && !inRing(best, px, py)) {
      for (var i = 0; i < best.length - 2; i += 2) {
        var mx = (best[i] + cx) / 2, my = (best[i + 1] + cy) / 2;
        if (inRing(best, mx, my)) { px = mx; py = my; break; }
      }
    }
    showTip(view.x + px * view.k, view.y + py * view.k);
    canvas.focus({ preventScroll: true });
  }
  function hideTip() { tip.hidden = true; }
  function showTip(sx, sy) {
    var cx = (sx - view.x) / view.k, cy = (sy - view.y) / view.k;
    var hit = countyAt(cx, cy), L = layers[current];
    if (!hit) { hideTip(); return; }
    var lines = [];
    if (hit.county >= 0) {
      var c = hit.county, r = L.rowOf[c], rows = L.rows;
      lines.push("<b>" + escHTML(C.name[c] + ", " + C.state[c]) + "</b> (" + C.fips[c] + ")" + (C.type[c] ? " " + escHTML(C.type[c]) : ""));
      if (r < 0) lines.push("no members");
      else {
        lines.push(escHTML(L.key) + ": " + rows.served[r] + " of " + rows.members[r] + " served (" + fmtPct(rows.pct[r]) + "%, " +
          fmtPct(rows.req[r]) + "% required) " + (rows.pass[r] ? "pass" : "<b>FAIL</b>"));
        lines.push(rows.counted[r] + " providers counted, " + rows.min[r] + " required" +
          (rows.p50[r] >= 0 ? "; nearest median " + fmtMi(rows.p50[r]) + " mi" : ""));
      }
    }
    var n = cellAt(L, hit.panel, cx, cy);
    if (n) lines.push(n + " unserved member" + (n > 1 ? "s" : "") + " in this " + D.cellSize + "\u00b0 cell");
    if (!lines.length) { hideTip(); return; }
    tip.innerHTML = lines.join("<br>");
    tip.hidden = false;
    var hr = host.getBoundingClientRect(), cr = canvas.getBoundingClientRect();
    var x = cr.left - hr.left + sx + 12, y = cr.top - hr.top + sy + 12;
    var tw = tip.offsetWidth;
    if (x + tw > host.clientWidth) x = Math.max(0, cr.left - hr.left + sx - tw - 12);
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }

  var pointers = new Map(), dragged = false, pinch = null;
  function local(e) { var r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  canvas.addEventListener("pointerdown", function (e) {
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, local(e));
    dragged = false;
    if (pointers.size === 2) {
      var ps = Array.from(pointers.values());
      pinch = Math.hypot(ps[0][0] - ps[1][0], ps[0][1] - ps[1][1]);
    }
  });
  canvas.addEventListener("pointermove", function (e) {
    var pt = local(e), prev = pointers.get(e.pointerId);
    if (!prev) { showTip(pt[0], pt[1]); return; }
    if (pointers.size === 2 && pinch) {
      pointers.set(e.pointerId, pt);
      var ps = Array.from(pointers.values()), d = Math.hypot(ps[0][0] - ps[1][0], ps[0][1] - ps[1][1]);
      if (d > 0) zoomAt(d / pinch, (ps[0][0] + ps[1][0]) / 2, (ps[0][1] + ps[1][1]) / 2);
      pinch = d; dragged = true;
      return;
    }
    var dx = pt[0] - prev[0], dy = pt[1] - prev[1];
    if (Math.abs(dx) + Math.abs(dy) > 2) dragged = true;
    pointers.set(e.pointerId, pt);
    view.x += dx; view.y += dy;
    clampView(); hideTip(); requestDraw();
  });
  function up(e) {
    var pt = local(e);
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (!dragged && e.type === "pointerup") showTip(pt[0], pt[1]);
  }
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  canvas.addEventListener("pointerleave", function (e) { if (e.pointerType === "mouse" && !pointers.size) hideTip(); });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var pt = local(e);
    zoomAt(Math.pow(2, -e.deltaY / (e.deltaMode ? 3 : 300)), pt[0], pt[1]);
  }, { passive: false });
  canvas.addEventListener("dblclick", function (e) { var pt = local(e); zoomAt(2, pt[0], pt[1]); });
  canvas.addEventListener("keydown", function (e) {
    var step = 60, used = true;
    switch (e.key) {
      case "+": case "=": zoomAt(1.5, cssW / 2, cssH / 2); break;
      case "-": case "_": zoomAt(1 / 1.5, cssW / 2, cssH / 2); break;
      case "0": fit(); requestDraw(); break;
      case "ArrowLeft": view.x += step; break;
      case "ArrowRight": view.x -= step; break;
      case "ArrowUp": view.y += step; break;
      case "ArrowDown": view.y -= step; break;
      default: used = false;
    }
    if (used) { e.preventDefault(); clampView(); hideTip(); requestDraw(); }
  });
  zin.addEventListener("click", function () { zoomAt(1.5, cssW / 2, cssH / 2); });
  zout.addEventListener("click", function () { zoomAt(1 / 1.5, cssW / 2, cssH / 2); });
  zfit.addEventListener("click", function () { fit(); requestDraw(); });
  window.addEventListener("resize", function () { requestDraw(); });

  // ---- tables ----
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  // Table renders one page of rows at a time. spec.columns: {label, num,
  // left, key(id) → sort key, text(id) → cell text, cls(id) → class};
  // spec.n: how many rows; spec.filter(id) → shown.
  function Table(hostEl, spec) {
    var self = this;
    this.spec = spec; this.page = 0; this.size = spec.pageSize || 100;
    this.order = new Int32Array(spec.n);
    for (var i = 0; i < spec.n; i++) this.order[i] = i;
    this.shown = this.order; this.col = -1; this.dir = 1; this.keys = [];
    var wrap = el("div", { "class": "scroll" + (spec.n > 30 ? " tall" : ""), tabindex: "0", role: "region", "aria-label": spec.label });
    var t = el("table");
    t.appendChild(el("caption", null, spec.caption || ""));
    var thead = el("thead"), tr = el("tr");
    this.ths = spec.columns.map(function (c, ci) {
      var th = el("th", { scope: "col", "aria-sort": "none", "class": c.num ? "" : "l" });
      var b = el("button", { type: "button" });
      b.appendChild(document.createTextNode(c.label));
      b.appendChild(el("span", { "class": "arrow", "aria-hidden": "true" }, "\u2195"));
      b.addEventListener("click", function () { self.sortBy(ci); });
      th.appendChild(b); tr.appendChild(th);
      return th;
    });
    thead.appendChild(tr); t.appendChild(thead);
    this.tbody = el("tbody"); t.appendChild(this.tbody);
    this.tbody.addEventListener("click", function (e) {
      var b = e.target.closest("button.show");
      if (!b) return;
      var id = +b.dataset.id, col = spec.columns.find(function (c) { return c.show; });
      col.show(id);
    });
    wrap.appendChild(t); hostEl.appendChild(wrap);
    this.pager = el("div", { "class": "pager" });
    this.prev = el("button", { type: "button" }, "Previous");
    this.next = el("button", { type: "button" }, "Next");
    this.status = el("span", { "aria-live": "polite" });
    this.prev.addEventListener("click", function () { self.go(self.page - 1); });
    this.next.addEventListener("click", function () { self.go(self.page + 1); });
    this.pager.appendChild(this.prev); this.pager.appendChild(this.status); this.pager.appendChild(this.next);
    hostEl.appendChild(this.pager);
    this.render();
  }
  Table.prototype.sortKeys = function (ci) {
    if (this.keys[ci]) return this.keys[ci];
    var c = this.spec.columns[ci], n = this.spec.n, keys = new Float64Array(n), i;
    if (c.num) {
      for (i = 0; i < n; i++) { var v = c.key(i); keys[i] = v == null || v < 0 && c.blankNegative ? NaN : v; }
    } else {
      var vals = new Array(n), uniq = new Map();
      for (i = 0; i < n; i++) { vals[i] = String(c.key(i)); uniq.set(vals[i], 0); }
      var us = Array.from(uniq.keys()).sort(collator.compare);
      us.forEach(function (u, r) { uniq.set(u, r); });
      for (i = 0; i < n; i++) keys[i] = uniq.get(vals[i]);
    }
    this.keys[ci] = keys;
    return keys;
  };
  Table.prototype.sortBy = function (ci) {
    var t0 = performance.now();
    this.dir = this.col === ci ? -this.dir : 1;
    this.col = ci;
    var keys = this.sortKeys(ci), dir = this.dir;
    var ord = Array.from(this.order);
    ord.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x !== x) return y !== y ? a - b : 1; // blanks last either way
      if (y !== y) return -1;
      return x === y ? a - b : (x < y ? -dir : dir);
    });
    this.order = Int32Array.from(ord);
    var self = this;
    this.ths.forEach(function (th, i) {
      th.setAttribute("aria-sort", i === ci ? (dir > 0 ? "ascending" : "descending") : "none");
      th.querySelector(".arrow").textContent = i === ci ? (dir > 0 ? "\u25b2" : "\u25bc") : "\u2195";
    });
    this.refilter();
    self.lastSortMs = performance.now() - t0;
  };
  Table.prototype.refilter = function () {
    var f = this.spec.filter;
    this.shown = f ? this.order.filter(function (id) { return f(id); }) : this.order;
    this.page = 0;
    this.render();
  };
  Table.prototype.go = function (p) {
    var pages = Math.max(1, Math.ceil(this.shown.length / this.size));
    this.page = Math.max(0, Math.min(pages - 1, p));
    this.render();
  };
  Table.prototype.render = function () {
    var cols = this.spec.columns, start = this.page * this.size, end = Math.min(this.shown.length, start + this.size), h = [];
    for (var i = start; i < end; i++) {
      var id = this.shown[i], row = this.spec.rowClass ? this.spec.rowClass(id) : "";
      h.push(row ? '<tr class="' + row + '">' : "<tr>");
      for (var c = 0; c < cols.length; c++) {
        var col = cols[c], cls = (col.num ? "" : "l") + (col.cls ? " " + col.cls(id) : "");
        var txt = escHTML(col.text(id));
        if (col.show) txt = '<button type="button" class="show" data-id="' + id + '" title="Show on the map">' + txt + "</button>";
        h.push(cls.trim() ? '<td class="' + cls.trim() + '">' : "<td>", txt, "</td>");
      }
      h.push("</tr>");
    }
    this.tbody.innerHTML = h.join("");
    var n = this.shown.length;
    this.status.textContent = n ? "Rows " + (start + 1) + "\u2013" + end + " of " + n : "No rows";
    this.prev.disabled = this.page === 0;
    this.next.disabled = end >= n;
    this.pager.hidden = n <= this.size && this.page === 0;
  };

  function countyLabel(c) { return C.name[c] + ", " + C.state[c] + " (" + C.fips[c] + ")"; }
  function numCol(label, get, text) { return { label: label, num: true, key: get, text: text || get }; }
  function textCol(label, get) { return { label: label, key: get, text: get }; }
  function showCol(label, get, show) { return { label: label, key: get, text: get, show: show }; }

  // Worst counties
  var worstHost = document.getElementById("worst");
  if (worstHost && D.worst.length) {
    var W = D.worst;
    var wr = function (id) { return layers[W[id][0]].rows; }, wi = function (id) { return W[id][1]; };
    var wc = function (id) { return wr(id).county[wi(id)]; };
    new Table(worstHost, {
      label: "Worst counties", n: W.length, caption: "Failing county \u00d7 " + (hasServices ? "discipline or service" : "discipline") + " rows, furthest below the required share first.",
      columns: [
        showCol("County", function (id) { return countyLabel(wc(id)); }, function (id) { showCounty(wc(id), W[id][0]); }),
        textCol("Type", function (id) { return C.type[wc(id)]; }),
        textCol(subjectLabel, function (id) { return layers[W[id][0]].key; }),
        numCol("Members", function (id) { return wr(id).members[wi(id)]; }),
        numCol("Served %", function (id) { return wr(id).pct[wi(id)]; }, function (id) { return fmtPct(wr(id).pct[wi(id)]); }),
        numCol("Required %", function (id) { return wr(id).req[wi(id)]; }, function (id) { return fmtPct(wr(id).req[wi(id)]); }),
        numCol("Unserved", function (id) { return wr(id).members[wi(id)] - wr(id).served[wi(id)]; }),
        milesCol("Nearest median mi", function (id) { return wr(id).p50[wi(id)]; }),
        milesCol("Nearest p90 mi", function (id) { return wr(id).p90[wi(id)]; })
      ]
    });
  }
  function milesCol(label, get) {
    return { label: label, num: true, blankNegative: true, key: get, text: function (id) { return fmtMi(get(id)); } };
  }

  // Recruitment targets
  var picksHost = document.getElementById("picks");
  if (picksHost && D.picks) {
    var K = D.picks;
    new Table(picksHost, {
      label: "Recruitment targets", n: K.rank.length, pageSize: 50,
      caption: "Greedy maximum coverage: members newly served by each candidate after the picks above it.",
      columns: [
        numCol("Rank", function (id) { return K.rank[id]; }),
        textCol("NPI", function (id) { return K.npi[id]; }),
        textCol("Name", function (id) { return K.name[id]; }),
        textCol(subjectLabel, function (id) { return K.layer[id]; }),
        textCol("County", function (id) { return K.county[id] ? K.county[id] + " (" + K.fips[id] + ")" : K.fips[id]; }),
        numCol("Newly served", function (id) { return K.newly[id]; }),
        numCol("Cumulative", function (id) { return K.cum[id]; }),
        numCol("Counties flipped to pass", function (id) { return K.flipped[id]; })
      ]
    });
  }

  // Every county × layer
  var allHost = document.getElementById("counties");
  if (allHost) {
    var N = 0;
    layers.forEach(function (L) { N += L.rows.county.length; });
    var rl = new Int32Array(N), rr = new Int32Array(N), k2 = 0;
    layers.forEach(function (L, li) { for (var r = 0; r < L.rows.county.length; r++) { rl[k2] = li; rr[k2] = r; k2++; } });
    var R = function (id) { return layers[rl[id]].rows; }, cty = function (id) { return R(id).county[rr[id]]; };
    var field = function (name) { return function (id) { return R(id)[name][rr[id]]; }; };
    var filt = { q: "", layer: -1, status: "" };
    var filters = el("div", { "class": "filters" });
    var qIn = el("input", { type: "search", placeholder: "name, state or FIPS" });
    var lSel = el("select"), sSel = el("select");
    lSel.appendChild(el("option", { value: "-1" }, "all"));
    layers.forEach(function (L, i) { lSel.appendChild(el("option", { value: String(i) }, L.name + " (" + L.key + ")")); });
    [["", "all"], ["fail", "failing"], ["pass", "passing"]].forEach(function (o) { sSel.appendChild(el("option", { value: o[0] }, o[1])); });
    [["County", qIn], ["Layer", lSel], ["Status", sSel]].forEach(function (f) {
      var lab = el("label", null, f[0]); lab.appendChild(f[1]); filters.appendChild(lab);
    });
    allHost.appendChild(filters);
    var table = new Table(allHost, {
      label: "Every county", n: N,
      caption: "Providers counted: within time and distance of at least one member, not telehealth-only (42 CFR 422.116(e)).",
      filter: function (id) {
        if (filt.layer >= 0 && rl[id] !== filt.layer) return false;
        var pass = R(id).pass[rr[id]];
        if (filt.status === "fail" && pass) return false;
        if (filt.status === "pass" && !pass) return false;
        if (filt.q) {
          var c = cty(id);
          return (C.name[c] + " " + C.state[c] + " " + C.fips[c]).toLowerCase().indexOf(filt.q) >= 0;
        }
        return true;
      },
      rowClass: function (id) { return R(id).pass[rr[id]] ? "pass" : "FAIL"; },
      columns: [
        textCol("FIPS", function (id) { return C.fips[cty(id)]; }),
        showCol("County", function (id) { return C.name[cty(id)]; }, function (id) { showCounty(cty(id), rl[id]); }),
        textCol("State", function (id) { return C.state[cty(id)]; }),
        textCol("Type", function (id) { return C.type[cty(id)]; }),
        textCol("Type source", function (id) { return C.official[cty(id)] ? "official" : "derived"; }),
        textCol(subjectLabel, function (id) { return layers[rl[id]].key; }),
        numCol("Members", field("members")),
        numCol("Served", field("served")),
        numCol("Served %", field("pct"), function (id) { return fmtPct(field("pct")(id)); }),
        numCol("Required %", field("req"), function (id) { return fmtPct(field("req")(id)); }),
        { label: "Share", key: function (id) { return R(id).pass[rr[id]] ? "pass" : "FAIL"; }, text: function (id) { return R(id).pass[rr[id]] ? "pass" : "FAIL"; },
          cls: function (id) { return R(id).pass[rr[id]] ? "" : "fail"; } },
        numCol("Counted", field("counted")),
        numCol("Minimum", field("min")),
        textCol("Minimum met", function (id) { return R(id).minPass[rr[id]] ? "pass" : "FAIL"; }),
        milesCol("Nearest median mi", field("p50")),
        milesCol("Nearest p90 mi", field("p90")),
        textCol("Credits", field("credits"))
      ]
    });
    var timer = 0;
    qIn.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { filt.q = qIn.value.trim().toLowerCase(); table.refilter(); }, 120);
    });
    lSel.addEventListener("change", function () { filt.layer = +lSel.value; table.refilter(); });
    sSel.addEventListener("change", function () { filt.status = sSel.value; table.refilter(); });
  }

  draw();
  document.documentElement.dataset.ready = "1";
  // For tests and benchmarks: how long the script took, and where on the
  // screen (client pixels) a lon/lat is drawn now.
  window.geoaccessReport = {
    scriptMs: performance.now() - T0,
    readyAt: performance.now(),
    screenOf: function (lon, lat) {
      var pt = [0, 0], r = canvas.getBoundingClientRect();
      for (var i = 0; i < D.panels.length; i++) {
        var p = D.panels[i];
        project(p, lon, lat, pt);
        if (pt[0] >= p.x && pt[0] <= p.x + p.w && pt[1] >= p.y && pt[1] <= p.y + p.h)
          return [r.left + view.x + pt[0] * view.k, r.top + view.y + pt[1] * view.k];
      }
      return null;
    }
  };
})();
