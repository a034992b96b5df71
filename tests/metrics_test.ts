/**
 * `/metrics` as Prometheus scrapes it: `promtool check metrics` accepts the exposition, and the
 * counters move with what clients saw (frames, bytes, viewers, drops by reason, encode times).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Config } from "../src/config/config.ts";
import { systemClock } from "../src/core/clock.ts";
import { type MultipartPart, readMultipart } from "../src/multipart/multipart_reader.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import type { Source } from "../src/source/source.ts";
import { killAfter, loopFrames, readRecording, testSource } from "./test_utils.ts";
import { requires } from "./tools.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;
const DAMAGED = new URL("../fixtures/damaged.mjpeg", import.meta.url).pathname;
const BOUNDARY = "tuchuanframe";

/** One sample: name, labels as written, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of a text exposition (enough for our own output). */
function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable sample line ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample named `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(hits.length, 1, `expected one sample ${name} ${JSON.stringify(labels)}`);
  return hits[0].value;
}

/** Runs `promtool check metrics` on `text`; returns its exit code and output. */
async function promtool(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = killAfter(child, 20_000);
  try {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    killer.cancel();
  }
}

async function scrape(server: RunningServer): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${server.url}metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseSamples(text) };
}

/** Opens a stream and reads `n` parts; the returned `close()` disconnects. */
async function watch(
  url: string,
  n: number,
): Promise<{ parts: MultipartPart[]; close: () => Promise<void> }> {
  const res = await fetch(url, { headers: { "User-Agent": "curl/8.5.0" } });
  assert.equal(res.status, 200);
  const it = readMultipart(res.body!, BOUNDARY, { strict: true });
  const parts: MultipartPart[] = [];
  while (parts.length < n) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
  }
  return { parts, close: async () => void await it.return(undefined) };
}

async function withServer(
  options: Partial<Config>,
  body: (server: RunningServer) => Promise<void>,
  source?: Source,
): Promise<void> {
  const server = await startServer(
    { port: 0, host: "127.0.0.1", workers: 1, ...options },
    { source },
  );
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

Deno.test(requires(["promtool"], {
  name: "/metrics passes promtool check metrics, with every camera labelled",
  async fn() {
    await withServer({ source: FIXTURE, encoder: "imagescript", quality: 60 }, async (server) => {
      const a = await watch(`${server.url}stream`, 3);
      const { text, samples } = await scrape(server);
      await a.close();
      const check = await promtool(text);
      // Exit 0 means no errors; lint findings (naming advice) would print but also fail the exit.
      assert.equal(check.code, 0, `promtool check metrics:\n${check.output}\n---\n${text}`);
      assert.equal(check.output.trim(), "", `promtool has remarks:\n${check.output}`);
      const perCamera = samples.filter((x) => x.name.startsWith("tuchuan_frames_"));
      assert.ok(perCamera.length > 0 && perCamera.every((x) => x.labels.camera === "default"));
    });
  },
}));

Deno.test("/metrics counters follow the streams", async () => {
  // --encoder imagescript so the encode histogram has observations too.
  await withServer({ source: FIXTURE, encoder: "imagescript", quality: 60 }, async (server) => {
    const a = await watch(`${server.url}stream`, 5);
    const b = await watch(`${server.url}stream`, 5);
    await b.close();
    const { text, samples } = await scrape(server);
    await a.close();

    // Every sample belongs to a family with HELP and TYPE.
    for (const s of samples) {
      const family = s.name.replace(/_(bucket|sum|count)$/, "");
      assert.match(text, new RegExp(`^# TYPE (${s.name}|${family}) `, "m"), s.name);
    }

    const received = [...a.parts, ...b.parts];
    const captured = value(samples, "tuchuan_frames_captured_total");
    const encoded = value(samples, "tuchuan_frames_encoded_total");
    const published = value(samples, "tuchuan_frames_published_total");
    assert.ok(captured >= 5, `captured ${captured}`);
    assert.ok(encoded >= 5, `encoded ${encoded}`);
    assert.ok(published >= 5 && published <= captured, `published ${published}/${captured}`);
    assert.ok(value(samples, "tuchuan_stream_frames_sent_total") >= received.length);
    const bodyBytes = received.reduce((n, p) => n + p.body.length, 0);
    const sent = value(samples, "tuchuan_stream_bytes_sent_total");
    assert.ok(sent > bodyBytes, `bytes sent ${sent} <= JPEG bytes received ${bodyBytes}`);
    // One viewer still connected when scraped, two ever connected.
    assert.equal(value(samples, "tuchuan_clients"), 1);
    assert.equal(value(samples, "tuchuan_clients_total"), 2);
    assert.equal(value(samples, "tuchuan_source_online"), 1);
    assert.equal(value(samples, "tuchuan_capture_running"), 1);
    assert.equal(value(samples, "tuchuan_paused"), 0);
    // "busy" may count frames that arrived while the worker was still starting; the fixture is
    // intact and identical frames are not being dropped, so these two stay at zero.
    for (const reason of ["corrupt", "same"]) {
      assert.equal(value(samples, "tuchuan_frames_dropped_total", { reason }), 0, reason);
    }
    const dropped = ["busy", "corrupt", "same", "error"].reduce(
      (n, reason) => n + value(samples, "tuchuan_frames_dropped_total", { reason }),
      0,
    );
    // Every captured frame is published, dropped or still in the one worker.
    assert.ok(captured - published - dropped >= 0 && captured - published - dropped <= 1);

    // The histogram: cumulative buckets, +Inf equal to the count, count equal to the encodes.
    const buckets = samples.filter((s) => s.name === "tuchuan_encode_seconds_bucket");
    const les = buckets.map((s) => s.labels.le);
    assert.equal(les.at(-1), "+Inf");
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(Number(les[i]) > Number(les[i - 1]) || les[i] === "+Inf", `le order ${les}`);
      assert.ok(buckets[i].value >= buckets[i - 1].value, `bucket ${les[i]} decreases`);
    }
    const count = value(samples, "tuchuan_encode_seconds_count");
    assert.equal(buckets.at(-1)!.value, count);
    assert.equal(count, encoded);
    assert.ok(value(samples, "tuchuan_encode_seconds_sum") > 0);

    // The send delay: one observation per part written, cumulative buckets, a sane mean.
    const delays = samples.filter((s) => s.name === "tuchuan_send_delay_seconds_bucket");
    assert.equal(delays.at(-1)!.labels.le, "+Inf");
    for (let i = 1; i < delays.length; i++) {
      assert.ok(delays[i].value >= delays[i - 1].value, `send delay bucket ${i} decreases`);
    }
    const delayCount = value(samples, "tuchuan_send_delay_seconds_count");
    assert.equal(delays.at(-1)!.value, delayCount);
    // Each viewer's last part may still be on its way (counted once the next is asked for).
    const sentParts = value(samples, "tuchuan_stream_frames_sent_total");
    assert.ok(delayCount <= sentParts && delayCount >= sentParts - 2, `${delayCount}/${sentParts}`);
    const meanDelay = value(samples, "tuchuan_send_delay_seconds_sum") / delayCount;
    assert.ok(meanDelay >= 0 && meanDelay < 1, `mean send delay ${meanDelay} s`);
  });
});

Deno.test("/metrics counts damaged frames as dropped{reason=corrupt}", async () => {
  await withServer({ source: DAMAGED }, async (server) => {
    // The fixture damages parts 2, 4, 6 and 8: reading six good frames passes at least three.
    const s = await watch(`${server.url}stream`, 6);
    const { samples } = await scrape(server);
    await s.close();
    assert.equal(s.parts.length, 6);
    assert.ok(value(samples, "tuchuan_frames_dropped_total", { reason: "corrupt" }) >= 3);
  });
});

Deno.test("/metrics counts --drop-same-frames skips as dropped{reason=same}", async () => {
  // A source that repeats one picture: all but the once-a-second refresh are skipped.
  const [first] = await readRecording(FIXTURE);
  const still: Source = testSource(
    (signal) => loopFrames([first], signal, systemClock, 50),
    "still",
  );
  await withServer({ dropSameFrames: true }, async (server) => {
    // The second part is the once-a-second refresh: every capture in between was a skip.
    const s = await watch(`${server.url}stream`, 2);
    const { samples } = await scrape(server);
    await s.close();
    assert.equal(s.parts.length, 2);
    const same = value(samples, "tuchuan_frames_dropped_total", { reason: "same" });
    const captured = value(samples, "tuchuan_frames_captured_total");
    const published = value(samples, "tuchuan_frames_published_total");
    assert.ok(same >= 5, `dropped{same} = ${same}`);
    assert.ok(published >= 2 && published < same, `published ${published}, skipped ${same}`);
    assert.equal(published + same, captured);
  }, still);
});

Deno.test("/metrics counts viewers refused by --max-clients", async () => {
  await withServer({ source: FIXTURE, maxClients: 1 }, async (server) => {
    const s = await watch(`${server.url}stream`, 1);
    const refused = await fetch(`${server.url}stream`);
    assert.equal(refused.status, 503);
    assert.ok(refused.headers.get("retry-after"));
    await refused.body?.cancel();
    const { samples } = await scrape(server);
    await s.close();
    assert.equal(value(samples, "tuchuan_clients_rejected_total"), 1);
    assert.equal(value(samples, "tuchuan_clients"), 1);
  });
});
