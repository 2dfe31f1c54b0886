// The report page in a real browser (Debian's headless Chromium, driven
// over the DevTools protocol): the slider recolours the map as
// `capgraph render` colours it at that scale and shows `capgraph eval`'s
// numbers; clicking a task shows `capgraph bottleneck`'s table; find and
// the cone filter work; no console error, no request beyond the file; a
// hostile spec stays text.
//
// Run by ctest: node --test tests/browser/report.test.mjs, with
// CAPGRAPH_EXE and CAPGRAPH_SOURCE_DIR set. Skips (exit 0, with a message)
// when Chromium is not installed.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { findChromium, launch, openPage } from "./cdp.mjs";

const exe = process.env.CAPGRAPH_EXE;
const src = process.env.CAPGRAPH_SOURCE_DIR;
const chromium = findChromium();
const haveBrowser = chromium && existsSync(chromium);
const tmp = mkdtempSync(join(tmpdir(), "capgraph-report-"));

function cli(args) {
  return execFileSync(exe, args, { cwd: src, encoding: "utf8", maxBuffer: 64 << 20 });
}
function csv(text) {
  const [head, ...lines] = text.trim().split("\n");
  const cols = head.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])));
}
// The number a CSV cell holds ("-inf" for ln 0, as the page's null).
function num(cell) { return cell === "-inf" ? null : Number(cell); }
// Each node's first shape fill and "P ..." text in a static map's SVG.
function staticLooks(svgText) {
  const out = {};
  const re = /<g id="[^"]*" class="node[^"]*">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g;
  for (let m; (m = re.exec(svgText));) {
    const id = m[1].replace(/&#45;/g, "-");
    const fill = /<(?:polygon|ellipse|path)[^>]*fill="([^"]+)"/.exec(m[2]);
    const p = /<text[^>]*>(P [=>][^<]*)<\/text>/.exec(m[2]);
    out[id] = { fill: fill && fill[1], p: p && p[1].replace(/&gt;/g, ">").replace(/&#45;/g, "-") };
  }
  return out;
}
// The axis value as the CLI reads it back: 17 significant digits.
const arg = (x) => x.toPrecision(17);

test("the report in a browser", { skip: haveBrowser ? false : "chromium not installed" }, async (t) => {
  const report = join(tmp, "emoji.html");
  cli(["report", "examples/emoji_movie.yaml", "-o", report]);
  const browser = await launch(chromium);
  try {
    const page = await openPage(browser, pathToFileURL(report).href);
    const data = await page.eval("window.capgraphReady.then((c) => c.data)");
    const ids = data.nodes.map((n) => n.id);

    await t.test("every sweep point: the page's numbers are capgraph sweep's and eval's", () => {
      // Every metric of every task at every point: exactly capgraph sweep's
      // (the same evaluation over the same points).
      const sweep = csv(cli(["sweep", "examples/emoji_movie.yaml", "--format", "csv"]));
      let compared = 0;
      for (const r of sweep) {
        const v = ids.indexOf(r.task);
        const j = data.x.indexOf(Number(r.at));
        assert.ok(j >= 0, `sweep point ${r.at} on the page`);
        const m = data.tasks[String(v)].metrics.find((q) => q.metric === r.metric);
        if (!m) continue;  // log_likelihood_per_step: a column of sweep only
        assert.equal(m.values[j], num(r.value), `${r.metric} of ${r.task} at point ${j}`);
        ++compared;
      }
      assert.ok(compared >= 3 * data.x.length);
      // Every node's P at every point against capgraph eval at that point
      // alone: a one-point evaluation takes the scalar exp and log where a
      // sweep takes the vector ones, so the last bits may differ (at most
      // 1.4e-14 relative on the examples: docs/decisions.md, "Vector
      // math: glibc's libmvec, per ISA"); anything more is a wrong number.
      for (let j = 0; j < data.x.length; ++j) {
        const rows = csv(cli(["eval", "examples/emoji_movie.yaml", "--at", arg(data.x[j]), "--format", "csv"]));
        for (const r of rows.filter((q) => q.metric === "p")) {
          const page = data.looks[ids.indexOf(r.node)].p[j], cli = num(r.value);
          assert.ok(Math.abs(page - cli) <= 2e-14 * Math.abs(cli), `P of ${r.node} at point ${j}: ${page} vs ${cli}`);
        }
      }
    });

    await t.test("the slider recolours the map as capgraph render does", async () => {
      const points = [0, 7, 20, data.start, 41, data.x.length - 1];
      for (const j of points) {
        const got = await page.eval(`(() => {
          const j = window.capgraph.setScale(${arg(data.x[j])});
          const out = { j, label: document.getElementById("scale-value").textContent, nodes: {} };
          for (const g of document.querySelectorAll("g[data-node]")) {
            const shape = g.querySelector("polygon, ellipse, path");
            const p = Array.from(g.querySelectorAll("text")).find((t) => /^P [=>]/.test(t.textContent));
            out.nodes[g.getAttribute("data-node")] = { fill: shape.getAttribute("fill"), p: p && p.textContent };
          }
          return out;
        })()`);
        assert.equal(got.j, j);
        assert.equal(got.label, data.scale_text[j]);
        const want = staticLooks(cli(["render", "examples/emoji_movie.yaml", "--at", arg(data.x[j])]));
        for (const id of ids) {
          assert.ok(got.nodes[id], `node ${id} on the map`);
          assert.equal(got.nodes[id].fill, want[id].fill, `fill of ${id} at point ${j}`);
          assert.equal(got.nodes[id].p, want[id].p, `P text of ${id} at point ${j}`);
        }
      }
      // A real key press moves the slider one point.
      await page.eval(`window.capgraph.setScale(${arg(data.x[10])}); document.getElementById("scale").focus()`);
      await page.key("ArrowRight", "ArrowRight", 39);
      assert.equal(await page.eval("window.capgraph.scaleIndex()"), 11);
    });

    await t.test("clicking a task shows capgraph bottleneck's table", async () => {
      const j = 30;
      await page.eval(`window.capgraph.setScale(${arg(data.x[j])})`);
      const box = await page.eval(`(() => { const r = document.querySelector('g[data-node="emoji_movie"]').getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()`);
      await page.click(box.x, box.y);
      const shown = await page.eval(`(() => ({
        title: document.querySelector("#details h2").textContent,
        rows: Array.from(document.querySelectorAll("#bottleneck-table tr[data-prerequisite]")).map((r) => r.getAttribute("data-prerequisite")),
        metrics: Object.fromEntries(Array.from(document.querySelectorAll("#details tr[data-metric]")).map((r) => [r.getAttribute("data-metric"), r.getAttribute("data-value")])),
        path: Array.from(document.querySelectorAll("g.cg-path")).map((g) => g.getAttribute("data-node")).sort(),
      }))()`);
      assert.equal(shown.title, "Emoji movie");
      const table = csv(cli(["bottleneck", "examples/emoji_movie.yaml", "--task", "emoji_movie", "--at", arg(data.x[j]), "--format", "csv"]));
      assert.deepEqual(shown.rows, table.slice(0, shown.rows.length).map((r) => r.node));
      assert.equal(shown.rows.length, Math.min(data.bottleneck_rows, table.length));
      const t0 = data.bottlenecks[String(ids.indexOf("emoji_movie"))][j];
      // The page holds (and shows) the CLI's values to the 4 significant
      // digits its tables print; %.4g and toPrecision(4) round alike.
      const four = (cell) => Number(Number(cell).toPrecision(4));
      t0.rows.forEach((r, i) => {
        assert.equal(r[1], four(table[i].improvement_potential), "improvement potential");
        assert.equal(r[2], four(table[i].birnbaum), "Birnbaum");
        assert.equal(r[3], four(table[i].criticality), "criticality");
      });
      const cells = await page.eval(`Array.from(document.querySelectorAll("#bottleneck-table tr[data-prerequisite]")).map((r) => Array.from(r.cells).slice(2).map((c) => c.textContent))`);
      cells.forEach((c, i) => {
        for (const [k, col] of [[0, "improvement_potential"], [1, "birnbaum"], [2, "criticality"]])
          assert.equal(Number(c[k]), four(table[i][col]), `${col} shown in row ${i}`);
      });
      // The panel's metrics: capgraph sweep's at this point.
      const sweepRows = csv(cli(["sweep", "examples/emoji_movie.yaml", "--tasks", "emoji_movie", "--format", "csv"]))
        .filter((r) => Number(r.at) === data.x[j]);
      assert.ok(Object.keys(shown.metrics).length >= 3);
      for (const [metric, value] of Object.entries(shown.metrics)) {
        const r = sweepRows.find((q) => q.metric === metric);
        assert.ok(r, `metric ${metric} in capgraph sweep`);
        assert.equal(value === "-inf" ? null : Number(value), num(r.value), metric);
      }
      // The critical path is highlighted on the map.
      assert.deepEqual(shown.path, t0.path.map((v) => ids[v]).sort());
    });

    await t.test("find jumps to a node; the cone filter dims the rest", async () => {
      await page.eval(`document.getElementById("find").focus()`);
      await page.type("Movie knowledge");
      await page.key("Enter", "Enter", 13);
      assert.equal(await page.eval(`document.querySelector("#details h2").textContent`), "Movie knowledge");
      await page.eval(`window.capgraph.select("decode_clues"); document.getElementById("cone").click()`);
      const dim = await page.eval(`Array.from(document.querySelectorAll("g.cg-dim[data-node]")).map((g) => g.getAttribute("data-node")).sort()`);
      assert.deepEqual(dim, ["emoji_movie", "link_plot", "movie_facts", "scene_composition", "title_recall"]);
      await page.eval(`document.getElementById("cone").click()`);
      assert.equal(await page.eval(`document.querySelectorAll("g.cg-dim").length`), 0);
    });

    await t.test("no console error; nothing fetched but the file", () => {
      assert.deepEqual(page.errors, []);
      for (const u of page.requests) assert.ok(u.startsWith("file:") || u.startsWith("data:"), `request to ${u}`);
    });
  } finally {
    await browser.close();
  }
});

test("a hostile spec stays text", { skip: haveBrowser ? false : "chromium not installed" }, async () => {
  const report = join(tmp, "hostile.html");
  cli(["report", "tests/data/hostile_labels.yaml", "-o", report]);
  const browser = await launch(chromium);
  try {
    const page = await openPage(browser, pathToFileURL(report).href);
    const data = await page.eval("window.capgraphReady.then((c) => c.data)");
    for (const n of data.nodes) {
      await page.eval(`window.capgraph.select(${JSON.stringify(n.id)})`);
      assert.equal(await page.eval(`document.querySelector("#details h2").textContent`), n.label);
    }
    await page.eval(`window.capgraph.setScale(${arg(data.x[data.x.length - 1])})`);
    assert.equal(await page.eval("typeof window.__pwned"), "undefined");
    assert.equal(await page.eval(`document.querySelectorAll("img").length`), 0);
    assert.equal(await page.eval(`document.querySelectorAll("script").length`), 2);
    assert.equal(await page.eval(`document.title`), data.name + " \u2014 capgraph report");
    assert.deepEqual(page.dialogs, []);
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
  }
});

after(() => rmSync(tmp, { recursive: true, force: true }));
