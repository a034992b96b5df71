/**
 * HTTPS and HTTP/2 end to end, with a self-signed certificate openssl makes at test time:
 * curl negotiates HTTP/2 and gets valid multipart parts, ffmpeg reads the stream over https,
 * Chromium shows the viewer page over h2 and a grid of streams past HTTP/1.1's six connections,
 * and the command line turns a bad key or an expired certificate into exit code 2 naming the
 * file.
 *
 * Each test is skipped, with a message, where a tool it needs is missing. The Chromium test is a
 * browser test: run it under the heavy lock (`flock /tmp/tuchuan-heavy.lock ...`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { boundaryFromContentType, readMultipart } from "../src/multipart/multipart_reader.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import { launchPlaywrightChromium } from "./browser_drivers.ts";
import { spawnServer, type State, waitFor } from "./stream_helpers.ts";
import { CertDir } from "./tls_certs.ts";
import { requires } from "./tools.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** What a test gets: the server on a fresh certificate, and a fetch client that trusts it. */
interface Https {
  server: RunningServer;
  cert: string;
  key: string;
  client: Deno.HttpClient;
}

/** Serves the test card over HTTPS with a new self-signed certificate, runs `fn`, cleans up. */
async function withHttps(fn: (h: Https) => Promise<void>): Promise<void> {
  const dir = CertDir.create();
  try {
    const { cert, key } = await dir.selfSigned("server", "ec");
    const server = await startServer({
      port: 0,
      host: "127.0.0.1",
      source: FIXTURE,
      tlsCert: cert,
      tlsKey: key,
    });
    const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(cert)] });
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
      await fn({ server, cert, key, client });
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    dir.remove();
  }
}

/** GET `/state` over HTTPS, trusting the test certificate. */
async function stateOver(client: Deno.HttpClient, base: string): Promise<State> {
  const res = await fetch(new URL("state", base), { client });
  assert.equal(res.status, 200);
  return await res.json();
}

/** Reads `n` parts of a multipart body strictly; each must be a 320x240 JPEG. */
async function readParts(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  n: number,
): Promise<number> {
  let count = 0;
  for await (const part of readMultipart(body, boundary, { strict: true })) {
    assert.equal(part.headers.get("content-type"), "image/jpeg");
    assert.equal(Number(part.headers.get("content-length")), part.body.length);
    const info = jpegInfo(part.body);
    assert.ok(info, `part ${count + 1} is not a complete JPEG`);
    assert.deepEqual([info.width, info.height], [320, 240]);
    if (++count === n) break;
  }
  return count;
}

/** What curl with `flag` (`--http1.1`, `--http2`) gets for `url`: "HTTP-version status". */
async function curlProtocol(flag: string, cert: string, url: string): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      flag,
      "--cacert",
      cert,
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_version} %{http_code}",
      url,
    ],
    stdin: "null",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test(requires(["openssl", "curl"], {
  name: "https: curl --http2 gets HTTP/2 200 and valid parts, with the certificate verified",
  async fn() {
    await withHttps(async ({ server, cert }) => {
      const dir = Deno.makeTempDirSync({ prefix: "tuchuan-curl-" });
      const headers = `${dir}/headers.txt`;
      // --cacert rather than -k: the certificate must also be right for 127.0.0.1.
      const curl = new Deno.Command("curl", {
        args: [
          ...["--http2", "--cacert", cert, "-s", "-S", "--max-time", "30", "-D", headers],
          `${server.url}stream`,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(curl.stderr).text();
      try {
        // The header file is written before the body starts.
        const head = await waitFor(() => {
          const text = Deno.readTextFileSync(headers);
          return /\r\n\r\n/.test(text) ? text : null;
        }, "curl's response headers");
        assert.match(head, /^HTTP\/2 200 \r\n/, head);
        const type = /^content-type: (.*)\r$/im.exec(head)?.[1] ?? "";
        assert.match(type, /^multipart\/x-mixed-replace; boundary=/);
        assert.equal(await readParts(curl.stdout, boundaryFromContentType(type), 10), 10);
      } finally {
        try {
          curl.kill();
        } catch {
          // Already ended.
        }
        await curl.status;
        await stderr;
        Deno.removeSync(dir, { recursive: true });
      }
    });
  },
}));

Deno.test(requires(["openssl", "curl"], {
  name: "https: clients that offer only HTTP/1.1 still get it over TLS",
  async fn() {
    await withHttps(async ({ server, cert, client }) => {
      assert.equal(await curlProtocol("--http1.1", cert, `${server.url}healthz`), "1.1 200");
      // And Deno's own fetch, trusting the certificate, reads the state over it.
      const state = await stateOver(client, server.url);
      assert.equal(state.source.kind, "replay");
    });
  },
}));

Deno.test(requires(["openssl", "ffmpeg"], {
  name: "https: ffmpeg reads the stream over https",
  async fn() {
    await withHttps(async ({ server }) => {
      const out = await new Deno.Command("ffmpeg", {
        args: [
          ...["-hide_banner", "-nostdin", "-loglevel", "info", "-tls_verify", "0"],
          ...["-i", `${server.url}stream`, "-frames:v", "10", "-f", "null", "-"],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      const log = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `ffmpeg failed:\n${log.slice(-2000)}`);
      assert.match(log, /Stream #0:0: Video: mjpeg.*320x240/);
      assert.match(log, /frame=\s*10 /);
    });
  },
}));

// The callbacks given to page.evaluate() run in Chromium; declare the little of the DOM they use
// (the DOM lib's stream types clash with Deno's).
declare const document: {
  getElementById(id: string): { naturalWidth: number } | null;
  createElement(tag: "img"): { src: string; naturalWidth: number; className: string };
  querySelectorAll(sel: string): ArrayLike<{ naturalWidth: number }>;
  body: { append(node: unknown): void };
};
declare const performance: {
  getEntriesByType(type: string): { nextHopProtocol: string }[];
};

/** Streams on one page: more than Chromium's six HTTP/1.1 connections per host. */
const GRID = 8;

Deno.test(requires(["openssl", "chromium"], {
  name: "https: Chromium shows the viewer over h2, and a grid of 8 streams all play",
  async fn() {
    await withHttps(async ({ server, client }) => {
      let browser: Browser | null = null;
      try {
        browser = await launchPlaywrightChromium(["--ignore-certificate-errors"]);
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (err) => errors.push(String(err)));
        await page.goto(server.url);
        const protocol = await page.evaluate(() =>
          performance.getEntriesByType("navigation")[0].nextHopProtocol
        );
        assert.equal(protocol, "h2");
        await waitFor(
          () => page.evaluate(() => (document.getElementById("stream")?.naturalWidth ?? 0) > 0),
          "the viewer's picture",
        );
        // A grid: with HTTP/1.1 the seventh stream would wait for a free connection for ever.
        await page.evaluate((n) => {
          for (let i = 0; i < n; i++) {
            const img = document.createElement("img");
            img.className = "grid";
            img.src = `stream?grid=${i}`;
            document.body.append(img);
          }
        }, GRID);
        await waitFor(
          () =>
            page.evaluate(() =>
              Array.from(document.querySelectorAll("img.grid")).every((i) => i.naturalWidth > 0)
            ),
          `all ${GRID} grid pictures`,
        );
        const state = await stateOver(client, server.url);
        assert.ok(state.clients >= GRID + 1, `${state.clients} viewers, not ${GRID + 1}`);
        assert.deepEqual(errors, []);
      } finally {
        await browser?.close();
      }
    });
  },
}));

Deno.test(requires(["openssl"], {
  name: "https: the command line exits 2 naming the file for a wrong key or an expired certificate",
  async fn() {
    const dir = CertDir.create();
    try {
      const good = await dir.selfSigned("good");
      const otherKey = await dir.key("other");
      const expired = await dir.dated("old", "20200101000000Z", "20200201000000Z");
      const run = async (args: string[], env: Record<string, string> = {}) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", MAIN, "--port", "0", "--host", "127.0.0.1", "--source", FIXTURE]
            .concat(args),
          env,
          stdin: "null",
          signal: AbortSignal.timeout(60_000),
        }).output();
        return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
      };
      const wrongKey = await run(["--tls-cert", good.cert, "--tls-key", otherKey]);
      assert.equal(wrongKey.code, 2, wrongKey.stderr);
      assert.match(wrongKey.stderr, new RegExp(`^tuchuan: Invalid --tls-key ${otherKey}: `, "m"));
      assert.match(wrongKey.stderr, /does not belong to the certificate/);
      // The same through the environment variables.
      const old = await run([], { TUCHUAN_TLS_CERT: expired.cert, TUCHUAN_TLS_KEY: expired.key });
      assert.equal(old.code, 2, old.stderr);
      assert.match(
        old.stderr,
        new RegExp(`^tuchuan: Invalid --tls-cert ${expired.cert}: .*expired`, "m"),
      );
      const missing = await run(["--tls-cert", good.cert, "--tls-key", dir.path("nope.key")]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(
        missing.stderr,
        /^tuchuan: Invalid --tls-key: Cannot read private key .*nope\.key/m,
      );
    } finally {
      dir.remove();
    }
  },
}));

Deno.test(requires(["openssl", "curl"], {
  name: "https: TUCHUAN_TLS_CERT and TUCHUAN_TLS_KEY serve HTTPS; the banner says so",
  async fn() {
    const dir = CertDir.create();
    try {
      const { cert, key } = await dir.selfSigned("env", "ec");
      const spawned = await spawnServer(["--host", "127.0.0.1", "--source", FIXTURE], {
        env: { TUCHUAN_TLS_CERT: cert, TUCHUAN_TLS_KEY: key },
      });
      try {
        const base = `https://127.0.0.1:${spawned.port}/`;
        assert.match(spawned.output(), /live MJPEG on port \d+ \(HTTPS, HTTP\/2\)/);
        assert.ok(spawned.output().includes(`Local:   ${base}`), spawned.output());
        assert.equal(await curlProtocol("--http2", cert, `${base}healthz`), "2 200");
      } finally {
        spawned.child.kill("SIGTERM");
        assert.equal((await spawned.status).code, 0);
      }
    } finally {
      dir.remove();
    }
  },
}));
