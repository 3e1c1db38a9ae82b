// slotkv's HTTP gateway driven by the real @upstash/redis client, unchanged:
// each data type, pipeline, multi-exec, eval/evalsha, base64 encoding, tokens.
// Starts its own slotkv (SLOTKV_BIN, default target/release/slotkv) on free
// ports with a token, and stops it when done.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Redis } from "@upstash/redis";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.SLOTKV_BIN ?? path.join(here, "../../../target/release/slotkv");
const TOKEN = "upstash-test-token";
let server;
let url;
let redis;

before(async () => {
  server = spawn(bin, ["--port", "0", "--http-port", "-1", "--bind", "127.0.0.1", "--http-token", TOKEN,
    "--http-readonly-token", "ro-token"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  url = await new Promise((resolve, reject) => {
    let http;
    lines.on("line", (line) => {
      const h = line.match(/Ready to accept connections http (\S+)/);
      if (h) http = h[1];
      if (/Ready to accept connections tcp/.test(line)) resolve(`http://${http}`);
    });
    server.on("exit", (code) => reject(new Error(`slotkv exited with ${code}`)));
  });
  lines.on("line", () => {});
  redis = new Redis({ url, token: TOKEN, enableTelemetry: false });
});

after(async () => {
  const exited = new Promise((resolve) => server.on("exit", resolve));
  server.kill("SIGTERM");
  assert.equal(await exited, 0);
});

test("strings", async () => {
  assert.equal(await redis.set("s:greeting", "hello"), "OK");
  assert.equal(await redis.get("s:greeting"), "hello");
  assert.equal(await redis.append("s:greeting", " world"), 11);
  assert.equal(await redis.strlen("s:greeting"), 11);
  assert.equal(await redis.incr("s:n"), 1);
  assert.equal(await redis.incrby("s:n", 41), 42);
  assert.equal(await redis.incrbyfloat("s:f", 1.5), 1.5);
  assert.equal(await redis.set("s:ttl", "v", { ex: 100 }), "OK");
  const ttl = await redis.ttl("s:ttl");
  assert.ok(ttl > 0 && ttl <= 100, `ttl ${ttl}`);
  assert.equal(await redis.set("s:ttl", "w", { nx: true }), null);
  assert.equal(await redis.mset({ "s:a": "1", "s:b": "two" }), "OK");
  assert.deepEqual(await redis.mget("s:a", "s:b", "s:none"), [1, "two", null]);
  // Objects are stored as JSON and read back as objects by the client.
  await redis.set("s:obj", { name: "slotkv", tags: ["kv", "lua"] });
  assert.deepEqual(await redis.get("s:obj"), { name: "slotkv", tags: ["kv", "lua"] });
  assert.equal(await redis.getdel("s:b"), "two");
  assert.equal(await redis.exists("s:a", "s:b"), 1);
  assert.equal(await redis.del("s:a", "s:greeting"), 2);
});

test("hashes", async () => {
  assert.equal(await redis.hset("h:user", { name: "ada", born: 1815 }), 2);
  assert.equal(await redis.hget("h:user", "name"), "ada");
  assert.deepEqual(await redis.hgetall("h:user"), { name: "ada", born: 1815 });
  assert.equal(await redis.hincrby("h:user", "born", 1), 1816);
  assert.deepEqual(await redis.hmget("h:user", "name", "none"), { name: "ada", none: null });
  assert.equal(await redis.hlen("h:user"), 2);
  assert.equal(await redis.hdel("h:user", "born"), 1);
  assert.deepEqual(await redis.hkeys("h:user"), ["name"]);
});

test("lists", async () => {
  assert.equal(await redis.rpush("l:q", "a", "b", "c"), 3);
  assert.equal(await redis.lpush("l:q", "z"), 4);
  assert.deepEqual(await redis.lrange("l:q", 0, -1), ["z", "a", "b", "c"]);
  assert.equal(await redis.lpop("l:q"), "z");
  assert.equal(await redis.rpop("l:q"), "c");
  assert.equal(await redis.llen("l:q"), 2);
  assert.equal(await redis.lindex("l:q", 1), "b");
});

test("sets", async () => {
  assert.equal(await redis.sadd("t:s", "x", "y", "z"), 3);
  assert.equal(await redis.sismember("t:s", "y"), 1);
  assert.equal(await redis.scard("t:s"), 3);
  assert.deepEqual((await redis.smembers("t:s")).sort(), ["x", "y", "z"]);
  assert.equal(await redis.srem("t:s", "x"), 1);
  await redis.sadd("t:o", "y", "w");
  assert.deepEqual(await redis.sinter("t:s", "t:o"), ["y"]);
});

test("sorted sets", async () => {
  assert.equal(await redis.zadd("z:board", { score: 10, member: "ann" }, { score: 30, member: "bob" }), 2);
  assert.equal(await redis.zadd("z:board", { score: 20, member: "cy" }), 1);
  assert.deepEqual(await redis.zrange("z:board", 0, -1), ["ann", "cy", "bob"]);
  assert.deepEqual(await redis.zrange("z:board", 0, 0, { withScores: true }), ["ann", 10]);
  assert.equal(await redis.zscore("z:board", "cy"), 20);
  assert.equal(await redis.zincrby("z:board", 15, "ann"), 25);
  assert.equal(await redis.zrank("z:board", "ann"), 1);
  assert.equal(await redis.zcard("z:board"), 3);
  assert.deepEqual(await redis.zrange("z:board", 0, 1, { rev: true }), ["bob", "ann"]);
});

test("pipeline: each command answers in order, errors in place", async () => {
  const p = redis.pipeline();
  p.set("p:k", "v");
  p.incr("p:n");
  p.incr("p:n");
  p.get("p:k");
  const results = await p.exec();
  assert.deepEqual(results, ["OK", 1, 2, "v"]);
  const bad = redis.pipeline();
  bad.set("p:k2", "v2");
  bad.lpush("p:k2", "x");
  bad.get("p:k2");
  const mixed = await bad.exec({ keepErrors: true });
  assert.equal(mixed[0].result, "OK");
  assert.match(mixed[1].error, /^WRONGTYPE/);
  assert.equal(mixed[2].result, "v2");
});

test("multi-exec: one transaction", async () => {
  const tx = redis.multi();
  tx.set("m:a", "1");
  tx.incr("m:a");
  tx.get("m:a");
  assert.deepEqual(await tx.exec(), ["OK", 2, 2]);
});

test("eval and evalsha", async () => {
  const script = "redis.call('SET', KEYS[1], ARGV[1]); return {redis.call('GET', KEYS[1]), #ARGV}";
  assert.deepEqual(await redis.eval(script, ["e:k"], ["stored"]), ["stored", 1]);
  const sha = await redis.scriptLoad("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  assert.equal(sha.length, 40);
  assert.deepEqual(await redis.scriptExists(sha), [1]);
  assert.equal(await redis.evalsha(sha, ["e:n"], [5]), 5);
  assert.equal(await redis.evalsha(sha, ["e:n"], [5]), 10);
  await assert.rejects(redis.evalsha("0".repeat(40), [], []), /NOSCRIPT No matching script/);
  await assert.rejects(redis.eval("return redis.call('NOPE')", [], []), /Unknown Redis command called from script/);
});

test("base64 encoding keeps text exact, and plain JSON works too", async () => {
  const text = "héllo ✓ 日本 \u0000 end";
  await redis.set("b:text", text);
  assert.equal(await redis.get("b:text"), text);
  const plain = new Redis({ url, token: TOKEN, responseEncoding: false, enableTelemetry: false });
  assert.equal(await plain.get("b:text"), text);
  assert.equal(await plain.type("b:text"), "string");
  assert.equal(await redis.type("b:text"), "string");
});

test("errors and tokens", async () => {
  await redis.set("x:str", "v");
  await assert.rejects(redis.lpush("x:str", "a"), /WRONGTYPE Operation against a key holding the wrong kind of value/);
  const wrong = new Redis({ url, token: "nope", enableTelemetry: false, retry: false });
  await assert.rejects(wrong.get("x:str"), /ERR invalid token/);
  const ro = new Redis({ url, token: "ro-token", enableTelemetry: false, retry: false });
  assert.equal(await ro.get("x:str"), "v");
  await assert.rejects(ro.set("x:str", "w"), /NOPERM this token is read-only/);
  assert.equal(await redis.get("x:str"), "v");
});

test("subscribe: messages published over HTTP arrive as events", async () => {
  const sub = redis.subscribe(["news"]);
  const got = [];
  const subscribed = new Promise((resolve) => sub.on("subscribe", resolve));
  const arrived = new Promise((resolve) => sub.on("message", (m) => { got.push(m); if (got.length === 2) resolve(); }));
  assert.equal(await subscribed, 1);
  // The subscription is registered before the event above is sent.
  assert.equal(await redis.publish("news", "hello"), 1);
  assert.equal(await redis.publish("news", { n: 1 }), 1);
  await arrived;
  assert.deepEqual(got, [{ channel: "news", message: "hello" }, { channel: "news", message: { n: 1 } }]);
  await sub.unsubscribe();
});
