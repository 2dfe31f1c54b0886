// A minimal Chrome DevTools Protocol client over Chromium's
// --remote-debugging-pipe (messages are JSON, each ended by a NUL byte, on
// file descriptors 3 (to the browser) and 4 (from it)). Enough to open a
// page, evaluate script in it, send real mouse and key events, and collect
// console errors, exceptions, dialogs and network requests. No npm
// packages, no network: Debian's chromium and nodejs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function findChromium() {
  for (const p of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (p) return p;
  }
  return null;
}

export async function launch(executable) {
  const profile = mkdtempSync(join(tmpdir(), "capgraph-cdp-"));
  const proc = spawn(executable, [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--mute-audio",
    // The page must not need the network: point every request at a closed port.
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--remote-debugging-pipe", "--user-data-dir=" + profile, "--window-size=1400,900", "about:blank",
  ], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true });  // its own process group
  let stderr = "";
  proc.stderr.on("data", (c) => { stderr += c.toString(); });
  const out = proc.stdio[3], inp = proc.stdio[4];
  let buf = "", next = 1;
  const pending = new Map(), listeners = new Set();
  inp.on("data", (chunk) => {
    buf += chunk.toString("utf8");
    for (let i; (i = buf.indexOf("\0")) >= 0;) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (msg.id !== undefined && pending.has(msg.id)) {
        const { resolve, reject } = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) reject(new Error(msg.error.message + " (" + msg.error.code + ")"));
        else resolve(msg.result);
      } else {
        for (const l of listeners) l(msg);
      }
    }
  });
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  function send(method, params = {}, sessionId = undefined) {
    const id = next++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      out.write(JSON.stringify(msg) + "\0");
    });
  }
  function waitFor(pred, ms = 15000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { listeners.delete(l); reject(new Error("timed out waiting for an event; chromium said:\n" + stderr.slice(-2000))); }, ms);
      const l = (msg) => { if (pred(msg)) { clearTimeout(timer); listeners.delete(l); resolve(msg); } };
      listeners.add(l);
    });
  }
  async function close() {
    try { await Promise.race([send("Browser.close"), new Promise((r) => setTimeout(r, 3000))]); } catch (_) { /* gone */ }
    try { process.kill(-proc.pid, "SIGKILL"); } catch (_) { /* already gone */ }
    await exited;
    // Chromium's helpers may still be closing files in the profile.
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
  return { send, waitFor, close, listeners };
}

// Opens `url` in a new tab and returns a page handle that records console
// errors, uncaught exceptions, dialogs and requests.
export async function openPage(browser, url) {
  const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await browser.send("Target.attachToTarget", { targetId, flatten: true });
  const page = { sessionId, errors: [], dialogs: [], requests: [] };
  browser.listeners.add((msg) => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === "Runtime.exceptionThrown") page.errors.push(msg.params.exceptionDetails.exception?.description || msg.params.exceptionDetails.text);
    if (msg.method === "Runtime.consoleAPICalled" && (msg.params.type === "error" || msg.params.type === "assert"))
      page.errors.push(msg.params.args.map((a) => a.value ?? a.description).join(" "));
    if (msg.method === "Log.entryAdded" && msg.params.entry.level === "error") page.errors.push(msg.params.entry.text);
    if (msg.method === "Page.javascriptDialogOpening") {
      page.dialogs.push(msg.params.message);
      browser.send("Page.handleJavaScriptDialog", { accept: false }, sessionId).catch(() => {});
    }
    if (msg.method === "Network.requestWillBeSent") page.requests.push(msg.params.request.url);
  });
  const s = (m, p) => browser.send(m, p, sessionId);
  await s("Page.enable");
  await s("Runtime.enable");
  await s("Log.enable");
  await s("Network.enable");
  const loaded = browser.waitFor((m) => m.sessionId === sessionId && m.method === "Page.loadEventFired");
  await s("Page.navigate", { url });
  await loaded;
  page.eval = async (expression) => {
    const r = await s("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error("in page: " + (r.exceptionDetails.exception?.description || r.exceptionDetails.text));
    return r.result.value;
  };
  page.click = async (x, y) => {
    for (const type of ["mouseMoved", "mousePressed", "mouseReleased"])
      await s("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
  };
  page.key = async (key, code, keyCode) => {
    const text = key === "Enter" ? "\r" : undefined;
    await s("Input.dispatchKeyEvent", { type: "keyDown", key, code, windowsVirtualKeyCode: keyCode, text });
    await s("Input.dispatchKeyEvent", { type: "keyUp", key, code, windowsVirtualKeyCode: keyCode });
  };
  page.type = async (text) => { await s("Input.insertText", { text }); };
  page.screenshot = async () => Buffer.from((await s("Page.captureScreenshot", { format: "png" })).data, "base64");
  return page;
}
