#!/usr/bin/env python3
"""Renders every example map and measures it as a reader would see it.

Usage: check_maps.py CAPGRAPH_BINARY [--out DIR] [--strict] [--markdown]

For each examples/*.yaml (at the geometric middle of its scale range; the
frontier evaluation map also with its bottleneck overlay, and the two
large maps also one page per group) the map is rendered to SVG and then
measured twice:

- in headless Chromium (Debian's `chromium`), from the SVG's own geometry:
  every node label's text box (getBBox) against its node shape, tested
  with isPointInFill at the corners and edge midpoints of the box; node
  shapes that overlap (each shape's outline sampled against the other's
  fill); the aspect ratio; and the smallest label in pt once the map is
  scaled to fit the page it was laid out for (16 x 24 cm portrait, either
  orientation, never enlarged);
- with rsvg-convert (librsvg, pango): each node's label is drawn in black,
  its shape over it in opaque white, and the dark pixels left over (at 2 px
  per pt) are label ink outside its shape.

Prints one table row per map. With --strict the exit code is 1 when a map
has a label outside its shape or overlapping shapes. Exit 77 (skip) when
chromium is not installed.
"""
import argparse
import glob
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE_PT = (16 / 2.54 * 72, 24 / 2.54 * 72)  # the default page: a portrait text block
# More maps per spec: the frontier evaluation map with a bottleneck overlay;
# the two large maps also split into one page per group (--split-groups).
EXTRA = {"frontier_eval.yaml": [["--task", "agentic_suite"], ["--split-groups"]],
         "curriculum.yaml": [["--split-groups"]]}

MEASURE_JS = r"""
const out = [];
function inside(shape, x, y) { return shape.isPointInFill(new DOMPoint(x, y)); }
function outline(shape, n) {
  const pts = [];
  if (shape.tagName === 'ellipse') {
    const cx = shape.cx.baseVal.value, cy = shape.cy.baseVal.value, rx = shape.rx.baseVal.value, ry = shape.ry.baseVal.value;
    for (let i = 0; i < n; ++i) { const a = 2 * Math.PI * i / n; pts.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]); }
  } else {
    const len = shape.getTotalLength();
    for (let i = 0; i < n; ++i) { const p = shape.getPointAtLength(len * i / n); pts.push([p.x, p.y]); }
  }
  return pts;
}
for (const div of document.querySelectorAll('div.map')) {
  const svg = div.querySelector('svg');
  const W = parseFloat(svg.getAttribute('width')), H = parseFloat(svg.getAttribute('height'));
  const root = svg.getScreenCTM().inverse();
  const nodes = [];
  let spill = 0, spilled = [], minFont = 1e9;
  for (const g of svg.querySelectorAll('g.node')) {
    const shape = g.querySelector('ellipse, polygon, path');
    if (!shape) continue;
    const b = shape.getBBox();
    nodes.push({shape, b, id: g.id});
    for (const t of g.querySelectorAll('text')) {
      if (!t.textContent.trim()) continue;
      const m = root.multiply(t.getScreenCTM());
      const k = Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
      minFont = Math.min(minFont, parseFloat(getComputedStyle(t).fontSize) * k);
      const r = t.getBBox();
      const xs = [r.x, r.x + r.width / 2, r.x + r.width], ys = [r.y, r.y + r.height / 2, r.y + r.height];
      let ok = true;
      for (const x of xs) for (const y of ys) if (!(x === xs[1] && y === ys[1]) && !inside(shape, x, y)) ok = false;
      if (!ok) { ++spill; if (spilled.length < 5) spilled.push(t.textContent.trim()); }
    }
  }
  let overlap = 0, pairs = [];
  for (let i = 0; i < nodes.length; ++i) for (let j = i + 1; j < nodes.length; ++j) {
    const a = nodes[i], c = nodes[j];
    if (a.b.x > c.b.x + c.b.width || c.b.x > a.b.x + a.b.width || a.b.y > c.b.y + c.b.height || c.b.y > a.b.y + a.b.height) continue;
    let hit = false;
    for (const [x, y] of outline(a.shape, 48)) if (inside(c.shape, x, y)) { hit = true; break; }
    if (!hit) for (const [x, y] of outline(c.shape, 48)) if (inside(a.shape, x, y)) { hit = true; break; }
    if (hit) { ++overlap; if (pairs.length < 5) pairs.push(a.id + '/' + c.id); }
  }
  const boxes = nodes.map(n => [n.b.x, n.b.y, n.b.width, n.b.height]);
  out.push({name: div.id, width: W, height: H, nodes: nodes.length, spill, spilled, overlap, pairs, minFont, boxes});
}
const pre = document.createElement('pre');
pre.id = 'result';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
"""


def scale_middle(path):
    lo, hi = 1e8, 1e13
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^\s+range:\s*\[([^,\]]+),\s*([^\]]+)\]", f.read(), re.M)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
    return "%.3g" % math.sqrt(lo * hi)


def render_all(binary, out_dir):
    maps = []
    for spec in sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml"))):
        base = os.path.basename(spec)
        for extra in [[]] + EXTRA.get(base, []):
            split = extra == ["--split-groups"]
            name = base[:-5] + ("_split" if split else "_" + extra[1] if extra else "")
            svg = os.path.join(out_dir, name + ".svg")
            cmd = [binary, "render", spec, "--at", scale_middle(spec), "-o", svg] + extra
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write("check-maps: %s failed: %s\n" % (" ".join(cmd), r.stderr.strip()))
                continue
            if split:  # one file per group: name_split-<group>.svg
                for page in sorted(glob.glob(os.path.join(out_dir, name + "-*.svg"))):
                    maps.append((os.path.basename(page)[:-4], page))
            else:
                maps.append((name, svg))
    return maps


def chromium_measure(chromium, maps, out_dir):
    html = ['<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>']
    for name, svg in maps:
        with open(svg, encoding="utf-8") as f:
            text = f.read()
        text = text[text.index("<svg"):]
        html.append('<div class="map" id="%s">%s</div>' % (name, text))
    html.append("<script>%s</script></body></html>" % MEASURE_JS)
    page = os.path.join(out_dir, "measure.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write("\n".join(html))
    profile = tempfile.mkdtemp(prefix="check-maps-chromium-")
    try:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--user-data-dir=" + profile,
               "--virtual-time-budget=20000", "--dump-dom", "file://" + page]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    m = re.search(r'<pre id="result">(.*?)</pre>', r.stdout, re.S)
    if not m:
        sys.exit("check-maps: chromium produced no measurements:\n" + r.stderr[-2000:])
    return {row["name"]: row for row in json.loads(m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))}


def png_dark_pixels(path):
    """Counts pixels darker than mid-grey in an 8-bit RGBA/RGB PNG (stdlib only)."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, width, height, ctype = 8, b"", 0, 0, 6
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    dark = 0
    for y in range(height):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for i in range(0, stride, bpp):
            alpha = line[i + 3] if bpp == 4 else 255
            if alpha > 128 and line[i] + line[i + 1] + line[i + 2] < 3 * 128:
                dark += 1
        prev = line
    return dark


def rsvg_spill(rsvg, svg, boxes, out_dir):
    """Label ink outside node shapes, in pixels at 2 px per pt, drawn by rsvg.

    Each node (its label in black under its shape in opaque white) is moved
    into a cell of its own, its shape's box plus a margin, so that the image
    holds only the nodes (boxes: the shape boxes Chromium measured, in the
    order of the SVG's node groups)."""
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    cells, x, y, row_h, margin, row_w = [], 0.0, 0.0, 0.0, 8.0, 1200.0
    nodes = list(re.finditer(r'<g id="[^"]*" class="node[^"]*">(.*?)</g>\n</g>', text, re.S))
    for g, (bx, by, bw, bh) in zip(nodes, boxes):
        body = g.group(1)
        shape = re.search(r"<(ellipse|polygon|path)\b[^>]*?/>", body)
        if not shape:
            continue
        white = re.sub(r'(fill|stroke)="[^"]*"', "", shape.group(0)).replace(
            "<" + shape.group(1), "<" + shape.group(1) + ' fill="white" stroke="none"', 1)
        labels = [re.sub(r'fill="[^"]*"', "", t.group(0)).replace("<text", '<text fill="black"', 1)
                  for t in re.finditer(r"<text\b.*?</text>", body, re.S)]
        if x > 0 and x + bw + 2 * margin > row_w:
            x, y, row_h = 0.0, y + row_h, 0.0
        cells.append('<g transform="translate(%.2f %.2f)">%s%s</g>' % (
            x + margin - bx, y + margin - by, "".join(labels), white))
        x += bw + 2 * margin
        row_h = max(row_h, bh + 2 * margin)
    width, height = row_w + 2 * margin, y + row_h
    probe = os.path.join(out_dir, os.path.basename(svg)[:-4] + ".rsvg-probe.svg")
    with open(probe, "w", encoding="utf-8") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%.0fpt" height="%.0fpt" viewBox="0 0 %.2f %.2f">'
                '<rect width="100%%" height="100%%" fill="white"/>%s</svg>' % (width, height, width, height, "".join(cells)))
    png = probe[:-4] + ".png"
    subprocess.run([rsvg, "-z", "2", "-o", png, probe], check=True, capture_output=True)
    return png_dark_pixels(png)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--out", default=None)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("check-maps: skipped: chromium is not installed (Debian package chromium)")
        return 77
    rsvg = shutil.which("rsvg-convert")
    out_dir = args.out or tempfile.mkdtemp(prefix="check-maps-")
    os.makedirs(out_dir, exist_ok=True)
    maps = render_all(args.binary, out_dir)
    rows = chromium_measure(chromium, maps, out_dir)
    print("| map | nodes | labels outside shape (Chromium) | label ink outside shape, px (rsvg) "
          "| overlapping shapes | size, pt | aspect | smallest label fitted to 16 x 24 cm, pt |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    bad = 0
    for name, svg in maps:
        r = rows.get(name)
        if not r:
            continue
        w, h = r["width"], r["height"]
        fit = min(1.0, max(min(PAGE_PT[0] / w, PAGE_PT[1] / h), min(PAGE_PT[1] / w, PAGE_PT[0] / h)))
        ink = rsvg_spill(rsvg, svg, r["boxes"], out_dir) if rsvg else None
        print("| %s | %d | %d | %s | %d | %.0f x %.0f | %.1f : 1 | %.1f |" % (
            name, r["nodes"], r["spill"], "-" if ink is None else ink, r["overlap"], w, h,
            max(w, h) / min(w, h), r["minFont"] * fit))
        for what in r["spilled"]:
            sys.stderr.write("  %s: label outside its shape: %s\n" % (name, what))
        for what in r["pairs"]:
            sys.stderr.write("  %s: shapes overlap: %s\n" % (name, what))
        bad += r["spill"] > 0 or r["overlap"] > 0 or bool(ink)
    if len(rows) != len(maps):
        sys.stderr.write("check-maps: %d of %d maps were not measured\n" % (len(maps) - len(rows), len(maps)))
        bad += 1
    return 1 if (args.strict and bad) else 0


if __name__ == "__main__":
    sys.exit(main())
