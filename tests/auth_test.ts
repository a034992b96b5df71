/**
 * Access control (DESIGN §3, §4): basic auth, tokens (query or Bearer, so `<img src>` works),
 * an open /healthz, CORS only when asked for, and secrets that never show up in /state or in
 * the server's log.
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { fetchText, spawnServer, waitFor } from "./stream_helpers.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

function basic(user: string, password: string): HeadersInit {
  return { Authorization: `Basic ${btoa(`${user}:${password}`)}` };
}

/** Status of GET `url` (the body is consumed or cancelled). */
async function statusOf(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (/multipart/.test(res.headers.get("content-type") ?? "")) await res.body?.cancel();
  else await res.arrayBuffer();
  return res;
}

Deno.test("--user/--password: 401 with a Basic challenge without them, 200 with, /healthz open", async () => {
  const server = await startServer({ port: 0, source: FIXTURE, user: "u", password: "p" });
  try {
    for (const path of ["stream", "snapshot.jpg", "state", "metrics", "", "?action=stream"]) {
      const res = await statusOf(`${server.url}${path}`);
      assert.equal(res.status, 401, `/${path} without credentials`);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    }
    assert.equal((await statusOf(`${server.url}state`, { headers: basic("u", "x") })).status, 401);
    assert.equal((await statusOf(`${server.url}state`, { headers: basic("x", "p") })).status, 401);
    assert.equal(
      (await statusOf(`${server.url}state`, { headers: { Authorization: "Basic !!!" } })).status,
      401,
    );
    const ok = await statusOf(`${server.url}stream`, { headers: basic("u", "p") });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /multipart\/x-mixed-replace/);
    assert.equal(
      (await statusOf(`${server.url}snapshot.jpg`, { headers: basic("u", "p") })).status,
      200,
    );
    // Health checks (load balancers, Docker) carry no credentials.
    assert.equal((await statusOf(`${server.url}healthz`)).status, 200);
    // POST /pause is protected as well: nobody pauses the camera without credentials.
    assert.equal((await statusOf(`${server.url}pause`, { method: "POST" })).status, 401);
  } finally {
    await server.stop();
  }
});

Deno.test("--token: ?token= and Bearer work, a wrong or missing token gets 401", async () => {
  const server = await startServer({ port: 0, source: FIXTURE, token: "t0k3n" });
  try {
    assert.equal((await statusOf(`${server.url}stream?token=t0k3n`)).status, 200);
    assert.equal((await statusOf(`${server.url}?action=stream&token=t0k3n`)).status, 200);
    assert.equal(
      (await statusOf(`${server.url}stream`, { headers: { Authorization: "Bearer t0k3n" } }))
        .status,
      200,
    );
    const missing = await statusOf(`${server.url}stream`);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal((await statusOf(`${server.url}stream?token=wrong`)).status, 401);
    assert.equal((await statusOf(`${server.url}stream?token=t0k3`)).status, 401);
    assert.equal((await statusOf(`${server.url}stream?token=`)).status, 401);
    assert.equal(
      (await statusOf(`${server.url}stream`, { headers: { Authorization: "Bearer nope" } })).status,
      401,
    );
    assert.equal((await statusOf(`${server.url}healthz`)).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("--cors sets Access-Control-Allow-Origin; without it there is none", async () => {
  const open = await startServer({ port: 0, source: FIXTURE });
  const cors = await startServer({ port: 0, source: FIXTURE, cors: "https://x.example" });
  try {
    const plain = await statusOf(`${open.url}state`, { headers: { Origin: "https://x.example" } });
    assert.equal(plain.headers.get("access-control-allow-origin"), null);
    for (const path of ["state", "snapshot.jpg", "stream", "healthz"]) {
      const res = await statusOf(`${cors.url}${path}`, {
        headers: { Origin: "https://x.example" },
      });
      assert.equal(res.status, 200, `/${path}`);
      assert.equal(res.headers.get("access-control-allow-origin"), "https://x.example", `/${path}`);
    }
    const preflight = await statusOf(`${cors.url}snapshot.jpg`, {
      method: "OPTIONS",
      headers: { Origin: "https://x.example", "Access-Control-Request-Method": "GET" },
    });
    assert.ok(preflight.status < 300);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://x.example");
  } finally {
    await open.stop();
    await cors.stop();
  }
});

Deno.test("secrets never appear in /state, /metrics or the log (debug level)", async () => {
  const password = "pw-S3cr3t-9f1c";
  const token = "tok-S3cr3t-77ab";
  const sourcePassword = "cam-S3cr3t-0d2e";
  // A closed port: the camera URL (with its own password) fails, so its error is logged too.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const camPort = (l.addr as Deno.NetAddr).port;
  l.close();
  const server = await spawnServer([
    "--source",
    `http://admin:${sourcePassword}@127.0.0.1:${camPort}/video`,
    "--user",
    "admin",
    "--password",
    password,
    "--token",
    token,
    "--log-level",
    "debug",
  ]);
  try {
    const auth = basic("admin", password);
    // Use every credential once, right and wrong, so any request logging would show them.
    const state = await fetchText(`${server.url}state`, { headers: auth });
    assert.equal(state.status, 200);
    const metrics = await fetchText(`${server.url}metrics?token=${token}`);
    assert.equal(metrics.status, 200);
    await statusOf(`${server.url}stream?token=${token}`);
    await statusOf(`${server.url}stream`, { headers: { Authorization: `Bearer ${token}` } });
    await statusOf(`${server.url}state`, { headers: basic("admin", `${password}x`) });
    await statusOf(`${server.url}state?token=${token}x`);
    // Wait for the camera failure to be logged and shown, then look everywhere.
    await waitFor(async () => {
      const s = JSON.parse((await fetchText(`${server.url}state`, { headers: auth })).text);
      return s.source.online === false && s.source.reason !== "" && s.source.reason !== "starting";
    }, "the camera error");
    const again = await fetchText(`${server.url}state`, { headers: auth });
    server.child.kill("SIGTERM");
    await server.status;
    const output = server.output();
    assert.match(output, /Viewer \d+ joined/, "debug logging was not on");
    for (const secret of [password, token, sourcePassword]) {
      for (
        const [where, text] of [
          ["/state", state.text],
          ["/state (offline)", again.text],
          ["/metrics", metrics.text],
          ["the log", output],
        ]
      ) {
        assert.ok(!text.includes(secret), `${where} shows a secret:\n${text}`);
      }
    }
  } finally {
    try {
      server.child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await server.status;
  }
});
