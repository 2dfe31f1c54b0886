// Writes a screenshot of a capgraph report with one node selected:
//   node scripts/report_screenshot.mjs REPORT.html NODE_ID SCALE OUT.png
// (Debian's chromium, over the DevTools protocol; tests/browser/cdp.mjs).
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { findChromium, launch, openPage } from "../tests/browser/cdp.mjs";

const [report, node, scale, out] = process.argv.slice(2);
const browser = await launch(findChromium());
try {
  const page = await openPage(browser, pathToFileURL(resolve(report)).href);
  await page.eval(`window.capgraph.setScale(${Number(scale)}); window.capgraph.select(${JSON.stringify(node)})`);
  writeFileSync(out, await page.screenshot());
} finally {
  await browser.close();
}
