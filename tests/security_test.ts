/**
 * What a stranger on the LAN, or a web page the user opens, can do (issue 10): no secret in any
 * answer or log line, no state change from another site's page, and `/healthz` honest about a
 * camera that is starting.
 *
 * @module
 */
import assert from "node:assert/strict";
import { systemClock } from "../src/core/clock.ts";
import type { SourceFrame } from "../src/core/frame.ts";
import { silentLogger } from "../src/core/logger.ts";
import { startServer } from "../src/server.ts";
import { launchPlaywrightChromium } from "./browser_drivers.ts";
import { fetchText, spawnServer, waitFor } from "./stream_helpers.ts";
import { makeJpeg, testSource } from "./test_utils.ts";
import { requires } from "./tools.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/** A port with nothing listening on it. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("a camera URL's password and query string show nowhere; /healthz does not even show its host", async () => {
  const password = "hunter2-Zq81";
  const key = "SECRETKEY-4b7e";
  const host = "127.0.0.1";
  const server = await spawnServer([
    "--source",
    `http://admin:${password}@${host}:${closedPort()}/video.cgi?apikey=${key}&user=admin`,
    "--always-on",
    "--log-level",
    "debug",
  ]);
  try {
    await waitFor(async () => (await fetchText(`${server.url}healthz`)).status === 503, "offline");
    const health = await fetchText(`${server.url}healthz`);
    const state = await fetchText(`${server.url}state`);
    const metrics = await fetchText(`${server.url}metrics`);
    const viewer = await fetchText(`${server.url}`);
    const body = JSON.parse(health.text);
    assert.equal(body.status, "offline");
    assert.match(body.reason, /http:\/\/…/, "the reason says a URL failed, without the URL");
    assert.ok(!health.text.includes(host), `/healthz names the camera's host: ${health.text}`);
    const s = JSON.parse(state.text);
    assert.match(s.source.input, /^http:\/\/\*\*\*@127\.0\.0\.1:\d+\/video\.cgi\?\*\*\*$/);
    server.child.kill("SIGTERM");
    await server.status;
    for (
      const [where, text] of [
        ["/healthz", health.text],
        ["/state", state.text],
        ["/metrics", metrics.text],
        ["the viewer page", viewer.text],
        ["the log", server.output()],
      ]
    ) {
      for (const secret of [password, key]) {
        assert.ok(!text.includes(secret), `${where} shows ${secret}:\n${text.slice(0, 2000)}`);
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

Deno.test("state changes refuse other sites (CSRF) unless --cors allows them; scripts and the page itself pass", async () => {
  const server = await startServer({ port: 0, source: FIXTURE });
  const allowed = await startServer({ port: 0, source: FIXTURE, cors: "http://dash.example" });
  try {
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const crossSite = { ...form, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site" };
    for (const path of ["pause", "resume", "controls"]) {
      const r = await fetchText(`${server.url}${path}`, { method: "POST", headers: crossSite });
      assert.equal(r.status, 403, `POST /${path} from another site: ${r.text}`);
      assert.match(JSON.parse(r.text).error, /cross-site/);
    }
    const sameSite = await fetchText(`${server.url}pause`, {
      method: "POST",
      headers: { "Origin": "http://printer.local", "Sec-Fetch-Site": "same-site" },
    });
    assert.equal(sameSite.status, 403);
    const command = await fetchText(`${server.url}?action=command&id=1&value=1`, {
      headers: { "Sec-Fetch-Site": "cross-site" },
    });
    assert.equal(command.status, 403);
    assert.equal(JSON.parse((await fetchText(`${server.url}state`)).text).paused, false);
    // The viewer page's own buttons, and scripts (no Origin, no Sec-Fetch-Site), work.
    const own = new URL(server.url);
    const page = await fetchText(`${server.url}pause`, {
      method: "POST",
      headers: { "Origin": own.origin, "Sec-Fetch-Site": "same-origin" },
    });
    assert.equal(page.status, 200);
    assert.equal((await fetchText(`${server.url}resume`, { method: "POST" })).status, 200);
    // --cors names an origin that may post.
    const dash = await fetchText(`${allowed.url}pause`, {
      method: "POST",
      headers: { "Origin": "http://dash.example", "Sec-Fetch-Site": "cross-site" },
    });
    assert.equal(dash.status, 200);
  } finally {
    await server.stop();
    await allowed.stop();
  }
});

Deno.test(requires(["chromium"], {
  name: "a cross-origin page's form cannot pause the camera (Chromium)",
  async fn() {
    const server = await startServer({ port: 0, source: FIXTURE });
    // The attacker's page, on another origin: a form that posts to /pause by itself.
    const evil = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
      new Response(
        `<form id=f method=post action="${server.url}pause"><input name=x value=1></form>` +
          `<script>document.getElementById("f").submit()</script>`,
        { headers: { "Content-Type": "text/html" } },
      ));
    const browser = await launchPlaywrightChromium();
    try {
      const page = await browser.newPage();
      const answer = page.waitForResponse((r) => r.url().endsWith("/pause"));
      await page.goto(`http://localhost:${evil.addr.port}/`);
      assert.equal((await answer).status(), 403);
      assert.equal(JSON.parse((await fetchText(`${server.url}state`)).text).paused, false);
    } finally {
      await browser.close();
      await evil.shutdown();
      await server.stop();
    }
  },
}));

Deno.test("/healthz says starting (200), not offline, while a waking camera opens", async () => {
  const jpeg = await makeJpeg(64, 48);
  const open = Promise.withResolvers<void>();
  const source = testSource(async function* (signal): AsyncGenerator<SourceFrame> {
    // Opening takes a while, as a camera's does.
    await Promise.race([open.promise, new Promise((r) => signal.addEventListener("abort", r))]);
    while (!signal.aborted) {
      yield { kind: "jpeg", width: 64, height: 48, data: jpeg, capturedAt: systemClock.now() };
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  const server = await startServer({ port: 0, alwaysOn: true }, { source, log: silentLogger });
  try {
    const starting = await fetchText(`${server.url}healthz`);
    assert.equal(starting.status, 200);
    assert.equal(JSON.parse(starting.text).status, "starting");
    open.resolve();
    await waitFor(
      async () => JSON.parse((await fetchText(`${server.url}healthz`)).text).status === "ok",
      "ok once frames arrive",
    );
  } finally {
    open.resolve();
    await server.stop();
  }
});

Deno.test("percent-encoded paths route and check methods alike (/%73tream is /stream)", async () => {
  const server = await startServer({ port: 0, source: FIXTURE });
  try {
    const post = await fetchText(`${server.url}%73tream`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.match(post.headers.get("allow") ?? "", /GET/);
    const options = await fetch(`${server.url}%73tate`, { method: "OPTIONS" });
    assert.equal(options.status, 204);
    await options.body?.cancel();
    assert.equal((await fetchText(`${server.url}%73tate`)).status, 200);
    assert.equal((await fetchText(`${server.url}%zz`)).status, 404);
  } finally {
    await server.stop();
  }
});
