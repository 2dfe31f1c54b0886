// capgraph report: the page's script. Reads the embedded data (JSON, read
// with JSON.parse), drives the map (recolour per sweep point, select, find,
// cone filter, zoom and pan) and fills the side panel. Strings from the
// spec reach the page only as text (textContent, createTextNode), never as
// markup. Hooks for scripts and tests: input#scale, g[data-node], #details,
// and window.capgraph = {data, setScale, select, scaleIndex}.
// The data arrive gzipped and in base64 (render/report.cpp); the page
// inflates them with the browser's DecompressionStream, so set-up is
// asynchronous: window.capgraphReady resolves to window.capgraph.
// One closure over the data (long by design); each function inside it is short.
window.capgraphReady = (async function () {
  "use strict";
  const payload = document.getElementById("capgraph-data").textContent.trim();
  const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const D = JSON.parse(await new Response(inflated).text());
  const SVG_NS = "http://www.w3.org/2000/svg";
  const slider = document.getElementById("scale");
  const scaleOut = document.getElementById("scale-value");
  const details = document.getElementById("details");
  const mapBox = document.getElementById("map");
  const svg = mapBox.querySelector("svg");
  const findBox = document.getElementById("find");
  const coneButton = document.getElementById("cone");
  const byId = new Map(D.nodes.map((n, i) => [n.id, i]));
  const nodeEls = new Map();   // node index -> {g, shape, pText, texts}
  const edgeEls = [];          // {g, a, b} (node indices)
  let point = D.start;
  let selected = null;
  let coneOnly = false;

  // ---- numbers as text ---------------------------------------------------
  function fmt(v, digits) {
    if (v === null || v === undefined) return "-inf";
    if (v === 0) return "0";
    const d = digits || 4;
    let s = Number(v).toPrecision(d);
    if (s.indexOf("e") >= 0) {
      let [m, e] = s.split("e");
      if (m.indexOf(".") >= 0) m = m.replace(/0+$/, "").replace(/\.$/, "");
      e = e.replace("+", "");
      return m + "e" + e;
    }
    if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  function scaleName(x) { return (D.axis === "compute" ? "C = " : "N = ") + fmt(x, 3); }

  // ---- the map's elements ------------------------------------------------
  for (const g of svg.querySelectorAll("g[data-node]")) {
    const i = byId.get(g.getAttribute("data-node"));
    if (i === undefined) continue;
    const shape = g.querySelector("polygon, ellipse, path");
    const texts = Array.from(g.querySelectorAll("text"));
    const pText = texts.find((t) => /^P [=>]/.test(t.textContent)) || null;
    nodeEls.set(i, { g: g, shape: shape, pText: pText, texts: texts });
    g.addEventListener("click", (ev) => { ev.stopPropagation(); select(D.nodes[i].id); });
  }
  for (const g of svg.querySelectorAll("g[data-edge]")) {
    const ends = g.getAttribute("data-edge").split(" ");
    edgeEls.push({ g: g, a: byId.get(ends[0]), b: byId.get(ends[1]) });
  }
  // A node's tooltip states P at the scale the map was laid out for; the
  // slider makes that stale, and the side panel says it all: drop it.
  for (const el of nodeEls.values())
    for (const a of el.g.querySelectorAll("a")) a.removeAttributeNS("http://www.w3.org/1999/xlink", "title");
  const legendScale = Array.from(svg.querySelectorAll("text")).filter((t) => t.textContent.startsWith("P (success) at "));

  // ---- scale -------------------------------------------------------------
  function applyPoint(j) {
    point = j;
    slider.value = String(j);
    scaleOut.textContent = D.scale_text[j];
    for (const t of legendScale) t.textContent = "P (success) at " + D.scale_text[j];
    for (const [i, el] of nodeEls) {
      const look = D.looks[i];
      if (el.shape) el.shape.setAttribute("fill", look.fill[j]);
      for (const t of el.texts) t.setAttribute("fill", look.ink[j]);
      if (el.pText) el.pText.textContent = look.p_text[j];
    }
    if (selected !== null) showDetails(selected);
  }
  function nearestPoint(x) {
    const lx = Math.log(x);
    let best = 0;
    for (let j = 1; j < D.x.length; ++j)
      if (Math.abs(Math.log(D.x[j]) - lx) < Math.abs(Math.log(D.x[best]) - lx)) best = j;
    return best;
  }
  function setScale(x) {
    const v = Number(x);
    if (!(v > 0) || !isFinite(v)) throw new RangeError("setScale: a positive scale value");
    const j = nearestPoint(v);
    applyPoint(j);
    return j;
  }
  slider.addEventListener("input", () => applyPoint(Number(slider.value)));

  // ---- selection, critical path, cone -------------------------------------
  function cone(i) {
    const seen = new Set([i]);
    const stack = [i];
    while (stack.length) {
      for (const c of D.nodes[stack.pop()].children) if (!seen.has(c)) { seen.add(c); stack.push(c); }
    }
    return seen;
  }
  function markPath(path) {
    for (const el of nodeEls.values()) el.g.classList.remove("cg-path");
    for (const e of edgeEls) e.g.classList.remove("cg-path-edge");
    if (!path) return;
    const on = new Set(path);
    for (const i of path) { const el = nodeEls.get(i); if (el) el.g.classList.add("cg-path"); }
    for (let k = 0; k + 1 < path.length; ++k) {
      for (const e of edgeEls) {
        if ((e.a === path[k] && e.b === path[k + 1]) || (e.a === path[k + 1] && e.b === path[k])) e.g.classList.add("cg-path-edge");
      }
    }
    return on;
  }
  function applyCone() {
    const keep = coneOnly && selected !== null ? cone(selected) : null;
    for (const [i, el] of nodeEls) el.g.classList.toggle("cg-dim", keep !== null && !keep.has(i));
    for (const e of edgeEls) e.g.classList.toggle("cg-dim", keep !== null && !(keep.has(e.a) && keep.has(e.b)));
    coneButton.textContent = coneOnly ? "show every node" : "only this node's cone";
  }
  function select(id) {
    const i = typeof id === "number" ? id : byId.get(String(id));
    if (i === undefined || i < 0 || i >= D.nodes.length) throw new RangeError("select: no node " + id);
    if (selected !== null && nodeEls.get(selected)) nodeEls.get(selected).g.classList.remove("cg-selected");
    selected = i;
    if (nodeEls.get(i)) nodeEls.get(i).g.classList.add("cg-selected");
    coneButton.disabled = false;
    showDetails(i);
    applyCone();
    return D.nodes[i].id;
  }
  coneButton.addEventListener("click", () => { coneOnly = !coneOnly; applyCone(); });

  // ---- the side panel ------------------------------------------------------
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function row(cells, numeric) {
    const tr = document.createElement("tr");
    cells.forEach((c, k) => tr.appendChild(el("td", c, numeric && k > 0 ? "num" : "")));
    return tr;
  }
  function table(head, rows, numeric) {
    const t = document.createElement("table");
    const hr = document.createElement("tr");
    for (const h of head) hr.appendChild(el("th", h));
    t.appendChild(hr);
    for (const r of rows) t.appendChild(r instanceof Element ? r : row(r, numeric));
    return t;
  }
  function showDetails(i) {
    const n = D.nodes[i];
    const look = D.looks[i];
    const j = point;
    details.textContent = "";
    details.appendChild(el("h2", n.label));
    details.appendChild(el("div", n.id + " \u00b7 " + n.kind + (n.group ? " \u00b7 " + n.group : ""), "id"));
    details.appendChild(el("p", n.rule));
    if (n.description) details.appendChild(el("p", n.description));
    const pRow = el("p");
    pRow.appendChild(el("strong", "P = " + fmt(look.p[j], 4)));
    pRow.appendChild(document.createTextNode(" at " + D.scale_text[j]));
    pRow.setAttribute("data-p", String(look.p[j]));
    details.appendChild(pRow);
    const task = D.tasks[String(i)];
    if (task) {
      details.appendChild(el("h3", "Metrics at this scale"));
      const rows = task.metrics.map((m) => {
        const r = row([m.metric, fmt(m.values[j], 4), crossingText(m)], true);
        r.setAttribute("data-metric", m.metric);
        r.setAttribute("data-value", m.values[j] === null ? "-inf" : String(m.values[j]));
        return r;
      });
      details.appendChild(table(["metric", "value", "crosses " + fmt(task.threshold, 3) + " at"], rows, true));
      details.appendChild(el("h3", "Over the sweep"));
      details.appendChild(curves(i, task));
      bottleneckPanel(i);
    } else {
      details.appendChild(el("h3", "Over the sweep"));
      details.appendChild(curves(i, null));
    }
  }
  function crossingText(m) {
    if (!m.probability) return "";
    if (m.crossing === undefined) return "not reached";
    if (m.crossing === "at start") return "at start";
    return scaleName(m.crossing);
  }
  function bottleneckPanel(i) {
    const per = D.bottlenecks[String(i)];
    if (!per) return;
    const b = per[point];
    details.appendChild(el("h3", "Bottlenecks at this scale (P_T = " + fmt(b.p_task, 4) + ")"));
    const onPath = new Set(b.path);
    const rows = b.rows.map((r) => {
      const tr = row([D.nodes[r[0]].label, fmt(D.looks[r[0]].p[point], 3), fmt(r[1], 4), fmt(r[2], 4), fmt(r[3], 4)], true);
      tr.setAttribute("data-prerequisite", D.nodes[r[0]].id);
      if (onPath.has(r[0])) tr.classList.add("on-path");
      tr.firstChild.classList.add("link");
      tr.firstChild.addEventListener("click", () => select(r[0]));
      return tr;
    });
    const t = table(["prerequisite", "P", "improvement", "Birnbaum", "criticality"], rows, true);
    t.id = "bottleneck-table";
    details.appendChild(t);
    if (b.more > 0) details.appendChild(el("p", "+" + b.more + " more prerequisites (capgraph bottleneck lists them all)", "hint"));
    const path = b.path.map((v) => D.nodes[v].label).join(" \u2192 ");
    details.appendChild(el("p", "Critical path: " + path));
    markPath(b.path);
    const hand = [];
    for (let k = 1; k < per.length; ++k) {
      const a = per[k - 1].rows[0], c = per[k].rows[0];
      if (a && c && a[0] !== c[0])
        hand.push(D.scale_text[k] + ": " + D.nodes[c[0]].label + " (after " + D.nodes[a[0]].label + ")");
    }
    details.appendChild(el("h3", "Where the top bottleneck changes hands"));
    if (!hand.length) details.appendChild(el("p", "Nowhere in the sweep: the same prerequisite leads throughout.", "hint"));
    else {
      const ul = el("ul", null, "handovers");
      for (const h of hand) ul.appendChild(el("li", h));
      details.appendChild(ul);
    }
  }

  // ---- curves (hand-drawn SVG) ------------------------------------------------
  const COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"];
  const DASHES = ["", "6 3", "2 2", "8 3 2 3", "1 3", "10 4", "4 4"];
  function s(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function curves(i, task) {
    const W = 440, H = 210, L = 44, R = 18, T = 10, B = 34;
    const lx = D.x.map((x) => Math.log10(x));
    const x0 = lx[0], x1 = lx[lx.length - 1] > x0 ? lx[lx.length - 1] : x0 + 1;
    const X = (v) => L + ((Math.log10(v) - x0) / (x1 - x0)) * (W - L - R);
    const series = [];
    const bands = D.bands || null;
    if (task) {
      const taskBands = bands ? bands.metrics[String(i)] || [] : [];
      let k = 0;
      for (const m of task.metrics)
        if (m.probability) series.push({ name: m.metric, y: m.values, crossing: m.crossing, band: taskBands[k++] });
    } else {
      series.push({ name: "P", y: D.looks[i].p, band: bands ? bands.p[i] : undefined });
    }
    const logSeries = task ? task.metrics.filter((m) => !m.probability) : [];
    const box = document.createElement("div");
    const drawPanel = (list, lo, hi, label, threshold) => {
      const Y = (v) => T + (1 - (v - lo) / (hi - lo || 1)) * (H - T - B);
      const g = s("svg", { viewBox: "0 0 " + W + " " + H, class: "curves", role: "img" });
      g.appendChild(s("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#999" }));
      for (let d = Math.ceil(x0); d <= Math.floor(x1); ++d) {
        const xx = L + ((d - x0) / (x1 - x0)) * (W - L - R);
        g.appendChild(s("line", { x1: xx, x2: xx, y1: H - B, y2: H - B + 4, stroke: "#666" }));
        const t = s("text", { x: xx, y: H - B + 16, "text-anchor": "middle", "font-size": 10 });
        t.textContent = "1e" + d;
        g.appendChild(t);
      }
      for (const v of [lo, (lo + hi) / 2, hi]) {
        const t = s("text", { x: L - 4, y: Y(v) + 3, "text-anchor": "end", "font-size": 10 });
        t.textContent = fmt(v, 3);
        g.appendChild(t);
      }
      const yl = s("text", { x: L, y: H - 4, "font-size": 10 });
      yl.textContent = label + " (x: " + (D.axis === "compute" ? "training FLOPs" : "parameters") + ")";
      g.appendChild(yl);
      if (threshold !== undefined)
        g.appendChild(s("line", { x1: L, x2: W - R, y1: Y(threshold), y2: Y(threshold), stroke: "#777", "stroke-dasharray": "3 3" }));
      const cur = X(D.x[point]);
      g.appendChild(s("line", { x1: cur, x2: cur, y1: T, y2: H - B, stroke: "#d55e00", "stroke-width": 1.5 }));
      list.forEach((ser, k) => {
        if (!ser.band) return;
        const clampY = (v) => Y(Math.max(lo, Math.min(hi, v))).toFixed(2);
        let up = "", down = "";
        ser.band[1].forEach((v, j) => { if (v !== null && isFinite(v)) up += (up ? " L" : "M") + X(D.x[j]).toFixed(2) + " " + clampY(v); });
        for (let j = ser.band[0].length - 1; j >= 0; --j) {
          const v = ser.band[0][j];
          if (v !== null && isFinite(v)) down += " L" + X(D.x[j]).toFixed(2) + " " + clampY(v);
        }
        if (up) g.appendChild(s("path", { d: up + down + " Z", fill: COLOURS[k % COLOURS.length], "fill-opacity": 0.18, stroke: "none", class: "band" }));
      });
      list.forEach((ser, k) => {
        let d = "";
        ser.y.forEach((v, j) => {
          if (v === null || !isFinite(v)) return;
          d += (d ? " L" : "M") + X(D.x[j]).toFixed(2) + " " + Y(Math.max(lo, Math.min(hi, v))).toFixed(2);
        });
        if (d) g.appendChild(s("path", { d: d, fill: "none", stroke: COLOURS[k % COLOURS.length], "stroke-width": 2, "stroke-dasharray": DASHES[k % DASHES.length] }));
        if (typeof ser.crossing === "number" && threshold !== undefined)
          g.appendChild(s("circle", { cx: X(ser.crossing), cy: Y(threshold), r: 4, fill: "none", stroke: COLOURS[k % COLOURS.length], "stroke-width": 2 }));
        for (const o of D.observations) {
          if (o.node !== i || o.metric !== ser.name) continue;
          o.x.forEach((ox, q) => {
            const oy = o.y[q];
            if (oy === null || !(ox > 0)) return;
            g.appendChild(s("circle", { cx: X(ox), cy: Y(Math.max(lo, Math.min(hi, oy))), r: 3, fill: "#fff", stroke: COLOURS[k % COLOURS.length] }));
          });
        }
      });
      box.appendChild(g);
      const legend = el("div");
      list.forEach((ser, k) => {
        const sw = s("svg", { width: 28, height: 10 });
        sw.appendChild(s("line", { x1: 0, x2: 28, y1: 5, y2: 5, stroke: COLOURS[k % COLOURS.length], "stroke-width": 2, "stroke-dasharray": DASHES[k % DASHES.length] }));
        const item = el("span");
        item.style.marginRight = "1em";
        item.appendChild(sw);
        item.appendChild(document.createTextNode(" " + ser.name));
        legend.appendChild(item);
      });
      const key = el("div", (threshold !== undefined ? "dashed grey: threshold; circles on it: crossings; " : "") +
        "vermillion line: the slider's scale" + (D.observations.some((o) => o.node === i) ? "; hollow dots: observed scores" : "") +
        (list.some((ser) => ser.band) ? "; shaded: the central " + Math.round(D.bands.level * 100) + " % of " + D.bands.draws +
          " draws of " + D.bands.source : ""), "hint");
      box.appendChild(legend);
      box.appendChild(key);
    };
    drawPanel(series, 0, 1, task ? "probability metrics" : "P", task ? task.threshold : undefined);
    if (logSeries.length) {
      let lo = Infinity, hi = -Infinity;
      for (const m of logSeries) for (const v of m.values) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      if (lo < hi) drawPanel(logSeries.map((m) => ({ name: m.metric, y: m.values })), lo, hi, "ln P (nats)");
    }
    return box;
  }

  // ---- find ------------------------------------------------------------------
  const list = document.getElementById("find-list");
  for (const n of D.nodes) {
    const o = document.createElement("option");
    o.value = n.id;
    o.label = n.label;
    list.appendChild(o);
  }
  function find(text) {
    const q = String(text).trim().toLowerCase();
    if (!q) return null;
    let hit = D.nodes.findIndex((n) => n.id.toLowerCase() === q || n.label.toLowerCase() === q);
    if (hit < 0) hit = D.nodes.findIndex((n) => n.id.toLowerCase().includes(q) || n.label.toLowerCase().includes(q));
    return hit < 0 ? null : hit;
  }
  function onFind() {
    const hit = find(findBox.value);
    if (hit === null) { findBox.setCustomValidity("no such node"); findBox.reportValidity(); return; }
    findBox.setCustomValidity("");
    select(hit);
    centreOn(hit);
  }
  findBox.addEventListener("change", onFind);
  findBox.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); onFind(); } });

  // ---- zoom and pan ------------------------------------------------------------
  const vb0 = svg.viewBox.baseVal ? [svg.viewBox.baseVal.x, svg.viewBox.baseVal.y, svg.viewBox.baseVal.width, svg.viewBox.baseVal.height] : null;
  let vb = vb0 ? vb0.slice() : null;
  function setViewBox() { if (vb) svg.setAttribute("viewBox", vb.map((v) => v.toFixed(2)).join(" ")); }
  function clientToSvg(cx, cy) {
    const r = svg.getBoundingClientRect();
    const k = Math.max(vb[2] / r.width, vb[3] / r.height);
    const ox = vb[0] + vb[2] / 2 - (r.width * k) / 2, oy = vb[1] + vb[3] / 2 - (r.height * k) / 2;
    return [ox + (cx - r.left) * k, oy + (cy - r.top) * k, k];
  }
  if (vb) {
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    mapBox.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const [px, py] = clientToSvg(ev.clientX, ev.clientY);
      const f = Math.exp(Math.max(-0.5, Math.min(0.5, ev.deltaY * 0.002)));
      vb = [px - (px - vb[0]) * f, py - (py - vb[1]) * f, vb[2] * f, vb[3] * f];
      setViewBox();
    }, { passive: false });
    let drag = null;
    mapBox.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0 || ev.target.closest("g[data-node]")) return;
      drag = { x: ev.clientX, y: ev.clientY, vb: vb.slice(), k: clientToSvg(ev.clientX, ev.clientY)[2] };
      mapBox.classList.add("dragging");
    });
    window.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      vb = [drag.vb[0] - (ev.clientX - drag.x) * drag.k, drag.vb[1] - (ev.clientY - drag.y) * drag.k, drag.vb[2], drag.vb[3]];
      setViewBox();
    });
    window.addEventListener("pointerup", () => { drag = null; mapBox.classList.remove("dragging"); });
    document.getElementById("fit").addEventListener("click", () => { vb = vb0.slice(); setViewBox(); });
  }
  function centreOn(i) {
    const e = nodeEls.get(i);
    if (!e || !vb) return;
    const bb = e.g.getBBox();
    const m = e.g.getCTM(), r = svg.getCTM();
    // getBBox is in the node's own coordinates; map its centre through the
    // graph's transform into the SVG's user space.
    const p = svg.createSVGPoint();
    p.x = bb.x + bb.width / 2;
    p.y = bb.y + bb.height / 2;
    const q = p.matrixTransform(r.inverse().multiply(m));
    const w = Math.min(vb0[2], Math.max(bb.width * 8, vb0[2] / 3)), h = (w * vb0[3]) / vb0[2];
    vb = [q.x - w / 2, q.y - h / 2, w, h];
    setViewBox();
  }

  // ---- notes, start ---------------------------------------------------------------
  const notes = document.getElementById("notes");
  notes.textContent = D.notes.join(" \u00b7 ");
  applyPoint(point);
  window.capgraph = {
    data: D,
    setScale: setScale,
    select: select,
    scaleIndex: () => point,
  };
  return window.capgraph;
})();
window.capgraphReady.catch((e) => {
  document.getElementById("notes").textContent = "This page could not read its data: " + e;
  throw e;
});
