// The playground page, served by a running slotkv and driven in headless
// Chromium through playwright-core: the console, a Lua script with KEYS and
// ARGV, a runaway script stopped by the budget while the page stays
// responsive, the slot map split among simulated nodes (MOVED, CROSSSLOT, a
// followed redirection, the hover card), and connected mode reading a key that
// another client wrote over RESP. Saves a screenshot (SCREENSHOT, default
// target/artifacts/playground.png).
//
// Needs web/build.sh to have built web/dist/. Starts its own slotkv
// (SLOTKV_BIN) on free ports and stops it; CHROMIUM names the browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import net from "node:net";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "../..");
const bin = process.env.SLOTKV_BIN ?? path.join(root, "target/release/slotkv");
const screenshot = process.env.SCREENSHOT ?? path.join(root, "target/artifacts/playground.png");
let server, browser, page, httpUrl, respPort;
const pageErrors = [];

before(async () => {
  server = spawn(bin, ["--port", "0", "--http-port", "-1", "--bind", "127.0.0.1",
    "--playground-dir", path.join(root, "web/dist")], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  [httpUrl, respPort] = await new Promise((resolve, reject) => {
    let http;
    lines.on("line", (line) => {
      const h = line.match(/Ready to accept connections http (\S+)/);
      if (h) http = h[1];
      const t = line.match(/Ready to accept connections tcp \S+:(\d+)/);
      if (t) resolve([`http://${http}`, Number(t[1])]);
    });
    server.on("exit", (code) => reject(new Error(`slotkv exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (e) => pageErrors.push(e));
});

after(async () => {
  await browser?.close();
  const exited = new Promise((resolve) => server.on("exit", resolve));
  server.kill("SIGTERM");
  assert.equal(await exited, 0);
});

// Types a line into the console and answers the text of its reply.
async function command(line) {
  const before = await page.locator("#output .entry").count();
  await page.fill("#console-input", line);
  await page.press("#console-input", "Enter");
  await page.waitForFunction((n) => document.querySelectorAll("#output .entry").length > n, before);
  return page.locator("#output .entry .reply").last().textContent();
}

async function runScript(code, keys, args) {
  await page.fill("#script", code);
  await page.fill("#keys", keys);
  await page.fill("#argv", args);
  await page.click("#run-script");
  await page.waitForFunction(() => {
    const t = document.querySelector("#script-result").textContent;
    return t !== "" && t !== "running…";
  }, null, { timeout: 60_000 });
  return page.locator("#script-result").textContent();
}

// One command over RESP, as any Redis client would send it.
function resp(args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(respPort, "127.0.0.1");
    let got = "";
    sock.on("data", (d) => {
      got += d;
      if (got.endsWith("\r\n")) {
        sock.end();
        resolve(got);
      }
    });
    sock.on("error", reject);
    sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""));
  });
}

test("the page loads from slotkv and the engine starts", async () => {
  await page.goto(`${httpUrl}/`);
  await page.waitForSelector("body[data-ready='1']", { timeout: 30_000 });
  const timing = await page.evaluate(() => ({
    paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
    ready: performance.now(),
  }));
  console.log(`first contentful paint ${timing.paint?.toFixed(0)} ms, engine ready ${timing.ready.toFixed(0)} ms`);
  assert.equal(await page.textContent("#prompt"), "slotkv>");
});

test("console: SET then GET", async () => {
  assert.equal(await command("SET greeting hello"), "OK");
  assert.equal(await command("GET greeting"), '"hello"');
  assert.equal(await command('SET "two words" \'and more\''), "OK");
  assert.equal(await command('GET "two words"'), '"and more"');
  assert.equal(await command("INCR greeting"), "(error) ERR value is not an integer or out of range");
  // History: the up arrow brings back the previous line.
  await page.press("#console-input", "ArrowUp");
  assert.equal(await page.inputValue("#console-input"), "INCR greeting");
  await page.fill("#console-input", "");
});

test("a Lua script with KEYS and ARGV", async () => {
  const out = await runScript(
    "return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}", "counter", "7");
  assert.equal(out, '1) "counter"\n2) "7"\n3) (integer) 7');
  assert.equal(await command("GET counter"), '"7"');
  // The examples are the repository's examples/lua, with the KEYS and ARGV of their headers.
  const names = await page.locator("#examples option").allTextContents();
  for (const f of ["hash_add.lua", "lock_acquire.lua", "rate_limit.lua", "counters_lib.lua"]) {
    assert.ok(names.some((n) => n.startsWith(f)), `${f} in ${names}`);
  }
  await page.selectOption("#examples", { index: names.findIndex((n) => n.startsWith("hash_add.lua")) });
  assert.equal(await page.inputValue("#keys"), "counters visits");
  await page.click("#run-script");
  await page.waitForFunction(() => document.querySelector("#script-result").textContent.startsWith('"'));
  assert.equal(await page.textContent("#script-result"), '"Added value: 5"');
  // A function library from the editor, called from the console.
  const lib = "#!lua name=pg\nredis.register_function('double', function(keys) " +
    "return redis.call('INCRBY', keys[1], redis.call('GET', keys[1])) end)";
  assert.equal(await runScript(lib, "", ""), '"pg"');
  assert.equal(await command("FCALL double 1 counter"), "(integer) 14");
});

test("a runaway script stops at the budget and the page stays responsive", async () => {
  const start = Date.now();
  const out = await runScript("while true do end", "", "");
  console.log(`the runaway script stopped after ${Date.now() - start} ms`);
  assert.match(out, /^\(error\) .*step budget/);
  assert.equal(await command("PING"), "PONG");
  assert.equal(await command("GET counter"), '"14"');
});

test("slot map: three simulated nodes, MOVED and CROSSSLOT", async () => {
  // Fill the map with keys so the drawing has something to show.
  assert.equal(await runScript("for i = 1, 3000 do redis.call('SET', 'user:' .. i, i) end return 3000", "", ""),
    "(integer) 3000");
  await page.selectOption("#nodes", "3");
  assert.equal(await page.textContent("#prompt"), "127.0.0.1:7000>");
  // slot("foo") = 12182, served by the third node.
  assert.equal(await command("SET foo bar"), "(error) MOVED 12182 127.0.0.1:7002");
  assert.equal(await command("MSET a 1 b 2"), "(error) CROSSSLOT Keys in request don't hash to the same slot");
  assert.equal(await command("MSET {user1000}.a 1 {user1000}.b 2"), "OK");
  await page.check("#follow");
  assert.equal(await command("SET foo bar"), "OK");
  assert.equal(await page.locator("#output .entry .notice").last().textContent(),
    "-> Redirected to slot [12182] located at 127.0.0.1:7002");
  assert.equal(await page.textContent("#prompt"), "127.0.0.1:7002>");
  // Hovering slot 12182 (row 95, column 22) shows its node and its key.
  const map = page.locator("#slot-map");
  const box = await map.boundingBox();
  await map.hover({ position: { x: (22.5 / 128) * box.width, y: (95.5 / 128) * box.height } });
  const tip = await page.textContent("#slot-tip");
  assert.match(tip, /^slot 12182 · 127\.0\.0\.1:7002\n1 key\n  foo$/);
  await page.fill("#key-lookup", "{user1000}.following");
  assert.equal(await page.textContent("#key-answer"), 'slot 3443 · hash tag "user1000" · 127.0.0.1:7000');
  fs.mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
});

test("connected mode reads a key another client set over RESP", async () => {
  assert.equal(await resp(["SET", "from:resp", "written by another client"]), "+OK\r\n");
  await page.check("#mode-remote");
  assert.match(await page.textContent("#prompt"), /\(http\)>$/);
  assert.equal(await command("GET from:resp"), '"written by another client"');
  // The page's own keys are not on the server.
  assert.equal(await command("GET greeting"), "(nil)");
  assert.equal(await command("NOPE"), "(error) ERR unknown command 'NOPE', with args beginning with: ");
  assert.deepEqual(pageErrors, []);
});
