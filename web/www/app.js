// The playground page: a console, a Lua editor and the slot map, over the
// slotkv engine compiled to WebAssembly (slotkv_web.js, built by web/build.sh),
// or over a running server's HTTP gateway in connected mode.
import init, { Playground, formatGatewayReply, splitArgs } from "/playground/slotkv_web.js";

const $ = (id) => document.getElementById(id);
const SLOTS = 16384, COLS = 128;
// One colour per simulated node (RGB); the single-node map uses the first.
const NODE_COLORS = [[232, 116, 59], [86, 156, 214], [123, 216, 143], [198, 120, 221], [229, 192, 123], [86, 182, 194]];

// The editor's examples: the repository's examples/lua/*.lua (web/build.sh
// copies them and lists them in examples.json), then two that only make sense here.
const PAGE_EXAMPLES = [
  {
    name: "Runaway loop: stopped by the step budget",
    keys: "", args: "",
    code: `-- This never ends on its own. The step budget stops it with an error,
-- and the page (like the server) goes on answering.
while true do end`,
  },
  {
    name: "JSON in and out with cjson",
    keys: "doc:{1}", args: '{"name":"ada","langs":["en"]}',
    code: `-- Store a JSON document, add to it, return it re-encoded.
local doc = cjson.decode(ARGV[1])
doc.updated = true
table.insert(doc.langs, 'fr')
redis.call('SET', KEYS[1], cjson.encode(doc))
return redis.call('GET', KEYS[1])`,
  },
];
const ORDER = ["hash_add.lua", "lock_acquire.lua", "lock_release.lua", "lock_extend.lua", "rate_limit.lua", "counters_lib.lua"];
let EXAMPLES = [];

// An example file: its first comment line names it; the `redis-cli --eval
// file keys , args` line in its header gives the KEYS and ARGV to try.
function parseExample(file, code) {
  const comment = code.split("\n").find((l) => l.startsWith("-- ")) ?? "";
  const run = code.match(/redis-cli --eval \S+ ([^\n]*)/);
  const [keys, args] = run ? run[1].split(" , ").map((s) => s.trim()) : ["", ""];
  let about = comment.slice(3).replace(/[,:.]$/, "");
  if (about.length > 56) about = about.slice(0, 55) + "…";
  return { name: `${file}: ${about}`, keys: keys ?? "", args: args ?? "", code };
}

async function loadExamples() {
  try {
    const files = await (await fetch("/playground/examples.json")).json();
    files.sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
    const texts = await Promise.all(files.map(async (f) => (await fetch(`/playground/${f}`)).text()));
    EXAMPLES = files.map((f, i) => parseExample(f, texts[i]));
  } catch {
    EXAMPLES = [];
  }
  EXAMPLES.push(...PAGE_EXAMPLES);
}

let pg = null;
let mode = "local";
let lastSlot = null;
const history = [];
let historyAt = 0;

// ------------------------------------------------------------------ start
async function main() {
  const examples = loadExamples().then(fillExamples);
  const origin = location.protocol.startsWith("http") ? location.origin : "http://127.0.0.1:8080";
  $("remote-url").value = origin;
  try {
    await init();
  } catch (e) {
    setStatus(`The engine did not load: ${e}`, true);
    return;
  }
  pg = new Playground();
  await examples;
  $("console-input").disabled = false;
  $("run-script").disabled = false;
  $("budget-hint").textContent =
    `Scripts stop after ${pg.scriptSteps().toLocaleString("en")} steps here, as the server's lua-step-budget stops them: ` +
    "a runaway loop ends with an error instead of freezing the page.";
  wireConsole();
  wireScript();
  wireSlots();
  wireMode();
  refresh();
  setStatus("Ready: the engine runs in this page. Nothing leaves your browser until you switch to a server.");
  document.body.dataset.ready = "1";
  $("console-input").focus();
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

// ------------------------------------------------------------------ console
function wireConsole() {
  const input = $("console-input");
  $("console-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const line = input.value;
    input.value = "";
    await submit(line);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowUp" && historyAt > 0) {
      historyAt -= 1;
      input.value = history[historyAt];
      ev.preventDefault();
    } else if (ev.key === "ArrowDown" && historyAt < history.length) {
      historyAt += 1;
      input.value = history[historyAt] ?? "";
      ev.preventDefault();
    }
  });
}

async function submit(line) {
  if (!line.trim()) return;
  if (history[history.length - 1] !== line) history.push(line);
  historyAt = history.length;
  if (/^\s*clear\s*$/i.test(line)) {
    $("output").textContent = "";
    return;
  }
  const prompt = promptText();
  let result;
  if (mode === "local") {
    result = pg.run(line);
  } else {
    const args = splitArgs(line);
    result = args ? await remote(args) : { text: "Invalid argument(s)", error: true };
  }
  if (result) addEntry(prompt, line, result);
  refresh(result?.slot);
}

function addEntry(prompt, line, result) {
  const out = $("output");
  const entry = document.createElement("div");
  entry.className = "entry";
  const cmd = document.createElement("div");
  cmd.className = "cmd";
  cmd.textContent = `${prompt} ${line}`;
  entry.append(cmd);
  if (result.notice) {
    const notice = document.createElement("div");
    notice.className = "notice";
    notice.textContent = result.notice;
    entry.append(notice);
  }
  const reply = document.createElement("div");
  reply.className = "reply" + (result.error ? " error" : "");
  reply.textContent = result.text;
  entry.append(reply);
  out.append(entry);
  out.scrollTop = out.scrollHeight;
}

function promptText() {
  if (mode === "local") return pg.prompt();
  try {
    return `${new URL($("remote-url").value).host} (http)>`;
  } catch {
    return "(http)>";
  }
}

// ------------------------------------------------------------------ connected mode
function wireMode() {
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => {
      mode = radio.value;
      $("nodes").disabled = $("current-node").disabled = $("follow").disabled = mode !== "local";
      setStatus(mode === "local"
        ? "Commands run in this page's engine."
        : `Commands go to ${$("remote-url").value} through its HTTP gateway; the slot map still shows this page's engine.`);
      refresh();
    });
  }
}

// Sends one command to the gateway: POST / with a JSON array.
async function remote(args) {
  const url = $("remote-url").value.replace(/\/+$/, "") + "/";
  const headers = { "Content-Type": "application/json" };
  const token = $("remote-token").value;
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    const resp = await fetch(url, { method: "POST", headers, body: JSON.stringify(args) });
    const body = await resp.text();
    let error = !resp.ok;
    try {
      error = error || "error" in JSON.parse(body);
    } catch {
      return { text: `(error) HTTP ${resp.status}: ${body.slice(0, 200)}`, error: true };
    }
    return { text: formatGatewayReply(body), error };
  } catch (e) {
    return { text: `(error) could not reach ${url}: ${e.message}`, error: true };
  }
}

// ------------------------------------------------------------------ Lua editor
function fillExamples() {
  const select = $("examples");
  EXAMPLES.forEach((ex, i) => select.append(new Option(ex.name, String(i))));
  select.addEventListener("change", () => loadExample(Number(select.value)));
  loadExample(0);
}

function loadExample(i) {
  const ex = EXAMPLES[i];
  $("script").value = ex.code;
  $("keys").value = ex.keys;
  $("argv").value = ex.args;
  $("script-result").textContent = "";
}

function wireScript() {
  $("run-script").addEventListener("click", runScript);
  $("script").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) runScript();
  });
}

async function runScript() {
  const code = $("script").value, keys = $("keys").value, args = $("argv").value;
  const library = /^#!lua\s+name=/.test(code);
  const button = $("run-script");
  button.disabled = true;
  $("script-result").className = "";
  $("script-result").textContent = "running…";
  // Let the page paint before a long script takes the thread.
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const prompt = promptText();
  let result, label;
  if (library) {
    label = "FUNCTION LOAD REPLACE <library from the editor>";
    result = mode === "local" ? pg.loadLibrary(code) : await remote(["FUNCTION", "LOAD", "REPLACE", code]);
  } else {
    const k = splitArgs(keys), a = splitArgs(args);
    label = `EVAL <script from the editor> ${k ? k.length : "?"} ${keys} ${args}`.trimEnd();
    if (mode === "local") result = pg.eval(code, keys, args);
    else if (!k || !a) result = { text: "Invalid argument(s)", error: true };
    else result = await remote(["EVAL", code, String(k.length), ...k, ...a]);
  }
  $("script-result").textContent = (result.notice ? result.notice + "\n" : "") + result.text;
  $("script-result").className = result.error ? "error" : "";
  addEntry(prompt, label, result);
  button.disabled = false;
  refresh(result.slot);
}

// ------------------------------------------------------------------ slot map
function wireSlots() {
  $("nodes").addEventListener("change", () => {
    pg.split(Number($("nodes").value));
    fillNodeSelect();
    refresh();
  });
  $("current-node").addEventListener("change", () => {
    pg.setNode(Number($("current-node").value));
    refresh();
  });
  $("follow").addEventListener("change", () => pg.setFollow($("follow").checked));
  const canvas = $("slot-map"), tip = $("slot-tip");
  canvas.addEventListener("mousemove", (ev) => {
    const rect = canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - rect.left) / rect.width) * COLS);
    const y = Math.floor(((ev.clientY - rect.top) / rect.height) * COLS);
    if (x < 0 || y < 0 || x >= COLS || y >= COLS) return;
    tip.textContent = describeSlot(y * COLS + x);
    tip.hidden = false;
    const left = ev.clientX - rect.left + 14, top = ev.clientY - rect.top + 14;
    tip.style.left = `${Math.min(left, rect.width - 160)}px`;
    tip.style.top = `${top}px`;
  });
  canvas.addEventListener("mouseleave", () => (tip.hidden = true));
  $("key-lookup").addEventListener("input", () => {
    const key = $("key-lookup").value;
    if (!key) return ($("key-answer").textContent = "");
    const info = pg.keyInfo(key);
    const tag = info.tag !== null ? `hash tag "${info.tag}"` : "no hash tag (whole key hashed)";
    $("key-answer").textContent = `slot ${info.slot} · ${tag}${info.node !== null ? ` · ${nodeName(info.node)}` : ""}`;
  });
  fillNodeSelect();
}

function fillNodeSelect() {
  const select = $("current-node");
  select.textContent = "";
  const nodes = pg.cluster().nodes;
  if (nodes.length === 0) select.append(new Option("the only node", "0"));
  nodes.forEach((n, i) => select.append(new Option(`${n.addr}`, String(i))));
}

function nodeName(i) {
  const n = pg.cluster().nodes[i];
  return n ? n.addr : "this node";
}

function describeSlot(slot) {
  const info = pg.slotInfo(slot, 8);
  const lines = [`slot ${slot}` + (info.node !== null ? ` · ${nodeName(info.node)}` : "")];
  lines.push(info.count === 1 ? "1 key" : `${info.count} keys`);
  for (const k of info.keys) lines.push(`  ${k.key}${k.tag !== null ? `   (hash tag "${k.tag}")` : ""}`);
  if (info.count > info.keys.length) lines.push(`  … ${info.count - info.keys.length} more`);
  return lines.join("\n");
}

// Redraws everything that depends on the engine's state.
function refresh(slot) {
  if (slot !== undefined && slot !== null) lastSlot = slot;
  $("prompt").textContent = promptText();
  const cluster = pg.cluster();
  if (cluster.nodes.length) $("current-node").value = String(cluster.current);
  drawMap(cluster);
}

function drawMap(cluster) {
  const canvas = $("slot-map"), ctx = canvas.getContext("2d");
  const counts = pg.slotCounts();
  const owner = new Int8Array(SLOTS);
  cluster.nodes.forEach((n, i) => n.ranges.forEach(([a, b]) => owner.fill(i, a, b + 1)));
  let max = 0;
  for (const c of counts) max = Math.max(max, c);
  const img = ctx.createImageData(COLS, COLS);
  const bg = [23, 29, 36];
  for (let s = 0; s < SLOTS; s++) {
    const color = NODE_COLORS[owner[s] % NODE_COLORS.length];
    // Empty slots show their node faintly; keys brighten a slot (log scale).
    const level = counts[s] === 0 ? 0.18 : 0.45 + 0.55 * (Math.log(counts[s] + 1) / Math.log(max + 1));
    for (let c = 0; c < 3; c++) img.data[s * 4 + c] = Math.round(bg[c] + (color[c] - bg[c]) * level);
    img.data[s * 4 + 3] = 255;
  }
  if (lastSlot !== null) img.data.fill(255, lastSlot * 4, lastSlot * 4 + 4);
  ctx.putImageData(img, 0, 0);
  drawLegend(cluster, counts);
}

function drawLegend(cluster, counts) {
  const legend = $("legend");
  legend.textContent = "";
  const total = counts.reduce((a, b) => a + b, 0);
  const item = (color, text) => {
    const span = document.createElement("span");
    const dot = document.createElement("i");
    dot.style.background = `rgb(${color.join(",")})`;
    span.append(dot, text);
    legend.append(span);
  };
  if (cluster.nodes.length === 0) {
    item(NODE_COLORS[0], `one node: all 16384 slots, ${total} keys`);
  } else {
    cluster.nodes.forEach((n, i) => {
      const keys = n.ranges.reduce((sum, [a, b]) => sum + counts.slice(a, b + 1).reduce((x, y) => x + y, 0), 0);
      item(NODE_COLORS[i % NODE_COLORS.length], `${n.addr}: ${n.ranges.map(([a, b]) => `${a}-${b}`).join(",")} (${keys} keys)`);
    });
  }
  item([255, 255, 255], "last command's slot");
  const note = document.createElement("span");
  note.textContent = "brighter = more keys · 128 slots per row · hover a slot";
  legend.append(note);
}

main();
