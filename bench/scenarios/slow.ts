/**
 * `slow`: 10 fast viewers plus one viewer that reads a frame per second through a small receive
 * buffer (bench/slow_client.py). The fast viewers must not slow down, and the slow one should see
 * recent frames (a flat frame age), not an ever older backlog.
 *
 * @module
 */
import { killTree, spawnTracked } from "../child_processes.ts";
import { replaySpec, withServer } from "../launch.ts";
import { measureWindow, type WindowMeasurement } from "../load_window.ts";
import {
  type BenchConfig,
  failureWarnings,
  num,
  perServer,
  rowsFor,
  type Scenario,
  type ScenarioResult,
} from "../scenario.ts";
import { compareEnds, type EndsComparison, slope, summarize } from "../stats.ts";
import { sendQueueBytes } from "../tcp_queue.ts";
import { loadWarnings } from "./warnings.ts";
import { peakMemoryRows } from "./window_rows.ts";

const FAST_CLIENTS = 10;
const WARMUP_MS = { full: 1500, quick: 300 };
const DURATION_MS = { full: 20_000, quick: 4000 };
/** An age that grows by more than this from the first to the last frames is a backlog. */
const GROWING_DELTA_S = 0.5;
/**
 * Age gained per second of reading over the last frames above which the backlog is still growing
 * (an unbounded queue read at 1 frame/s ages ~0.97 s/s; a bounded one stops at its depth).
 */
const STILL_GROWING_SLOPE = 0.5;

/** One JSON line of slow_client.py for a frame. */
interface SlowFrame {
  readonly n: number;
  readonly t: number;
  readonly bytes: number;
  readonly jpeg: boolean;
  readonly age_s: number | null;
  /** The part's X-Timestamp, unix seconds (null without one). */
  readonly ts: number | null;
}

/** What the slow client saw, and the server's send queue towards it. */
export interface SlowClientResult {
  readonly frames: SlowFrame[];
  readonly notes: string[];
  readonly error?: string;
  readonly rcvbuf?: number;
  readonly exitCode: number | null;
  /** Largest server-side TCP send queue to the slow client, bytes (null: never seen). */
  readonly maxSendQueue: number | null;
  /** The last sample of that queue, bytes. */
  readonly lastSendQueue: number | null;
}

/** Reads a child's stdout line by line. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let partial = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    yield* parts;
  }
  if (partial) yield partial;
}

/**
 * Runs slow_client.py for `seconds` against `port`, parses its JSON lines as they come, and
 * samples the server's send queue to it every 500 ms once it reports its local port.
 */
export async function runSlowClient(
  cfg: BenchConfig,
  port: number,
  seconds: number,
): Promise<SlowClientResult> {
  const child = spawnTracked("slow_client.py", cfg.python, [
    cfg.slowClientScript,
    ...["--port", String(port), "--seconds", String(seconds), "--rcvbuf", "8192"],
  ]);
  // The client exits on its own at the deadline; the timer is only a safety net.
  const timer = setTimeout(() => killTree(child, 500), (seconds + 10) * 1000);
  const stderr = new Response(child.stderr).text();
  const frames: SlowFrame[] = [];
  const notes: string[] = [];
  let error: string | undefined;
  let rcvbuf: number | undefined;
  let maxSendQueue: number | null = null;
  let lastSendQueue: number | null = null;
  let sampler: ReturnType<typeof setInterval> | undefined;
  const sampleQueue = (clientPort: number) => {
    const q = sendQueueBytes(port, clientPort);
    if (q === null) return;
    lastSendQueue = q;
    maxSendQueue = Math.max(maxSendQueue ?? 0, q);
  };
  try {
    for await (const line of lines(child.stdout)) {
      if (!line.trim()) continue;
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line);
      } catch {
        notes.push(`unparsable output: ${line.slice(0, 80)}`);
        continue;
      }
      if (ev.event === "frame") {
        frames.push(ev as unknown as SlowFrame);
      } else if (ev.event === "note") {
        notes.push(String(ev.message));
      } else if (ev.event === "error") {
        error = String(ev.message);
      } else if (ev.event === "connected") {
        rcvbuf = Number(ev.rcvbuf);
        const clientPort = Number(ev.local_port);
        if (Number.isInteger(clientPort) && clientPort > 0) {
          sampler = setInterval(() => sampleQueue(clientPort), 500);
        }
      }
    }
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
  }
  const stop = await killTree(child);
  const err = await stderr;
  if (!error && stop.code !== 0) error = `exit code ${stop.code}: ${err.trim().slice(-300)}`;
  return { frames, notes, error, rcvbuf, exitCode: stop.code, maxSendQueue, lastSendQueue };
}

/** Frames the server skipped between two consecutive reads, from their capture timestamps. */
export function skippedBetweenReads(frames: readonly SlowFrame[], fps: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1].ts;
    const b = frames[i].ts;
    if (a !== null && b !== null) out.push(Math.max(0, Math.round((b - a) * fps) - 1));
  }
  return out;
}

/** The window plus the slow client's view. */
interface SlowOutcome {
  readonly window: WindowMeasurement;
  readonly slow: SlowClientResult;
  readonly ages: number[];
  readonly ends: EndsComparison;
  /** Seconds of age gained per second over the last `ends.k` frames. */
  readonly lastSlope: number;
}

/**
 * "flat"; "growing" (the last frames are older than the first, and still ageing); "levelled off"
 * (older, but no longer ageing: a bounded backlog); null without ages (the seed).
 */
function trend(o: SlowOutcome): string | null {
  if (o.ends.k === 0 || !Number.isFinite(o.ends.delta)) return null;
  if (o.ends.delta <= GROWING_DELTA_S) return "flat";
  return o.lastSlope > STILL_GROWING_SLOPE || !Number.isFinite(o.lastSlope)
    ? "growing"
    : "levelled off";
}

/** The `slow` scenario. */
export const slowScenario: Scenario = {
  name: "slow",
  title: `${FAST_CLIENTS} fast clients + 1 slow reader (1 frame/s, 8 KiB SO_RCVBUF), 640x480 @ 30`,
  estimateSeconds: (quick) => quick ? 12 : 50,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    const seconds = DURATION_MS[mode] / 1000;
    const outcomes = await perServer(cfg, async (kind) => {
      const run = await withServer(cfg, replaySpec(cfg, kind), (server) =>
        measureWindow(server, {
          clients: FAST_CLIENTS,
          warmupMs: WARMUP_MS[mode],
          durationMs: DURATION_MS[mode],
          alongside: () => runSlowClient(cfg, server.port, seconds),
        }));
      const slow = run.value.alongside as SlowClientResult;
      const ages = slow.frames.map((f) => f.age_s ?? NaN).filter(Number.isFinite);
      const ends = compareEnds(ages, 5);
      const timed = slow.frames.filter((f) => f.age_s !== null).slice(-ends.k);
      const lastSlope = slope(timed.map((f) => f.t), timed.map((f) => f.age_s ?? NaN));
      const outcome = { window: run.value, slow, ages, ends, lastSlope };
      cfg.log(
        `  ${kind}: fast fps min ${run.value.load.fps.min.toFixed(1)}, slow read ` +
          `${slow.frames.length} frames, age ${
            ages.length ? ages.map((a) => a.toFixed(2)).join(" ") : "n/a"
          }`,
      );
      return outcome;
    });
    const rows = rowsFor<SlowOutcome>(outcomes, [
      {
        metric: "fast clients fps min",
        better: "higher",
        digits: 1,
        headline: true,
        get: (o) => num(o.window.load.fps.min),
      },
      {
        metric: "fast clients fps p50",
        better: "higher",
        digits: 1,
        get: (o) => num(o.window.load.fps.p50),
      },
      {
        metric: "fast clients bad parts",
        better: "lower",
        digits: 0,
        get: (o) => o.window.load.badParts,
      },
      { metric: "slow client frames read", digits: 0, get: (o) => o.slow.frames.length },
      {
        metric: "slow client non-JPEG frames",
        better: "lower",
        digits: 0,
        get: (o) => o.slow.frames.filter((f) => !f.jpeg).length,
      },
      {
        metric: "slow frame age p50",
        unit: "s",
        better: "lower",
        digits: 3,
        headline: true,
        get: (o) => num(summarize(o.ages).p50),
      },
      {
        metric: "slow frame age max",
        unit: "s",
        better: "lower",
        digits: 3,
        get: (o) => num(summarize(o.ages).max),
      },
      {
        metric: "slow age, first frames (median)",
        unit: "s",
        digits: 3,
        get: (o) => num(o.ends.first),
      },
      {
        metric: "slow age, last frames (median)",
        unit: "s",
        digits: 3,
        get: (o) => num(o.ends.last),
      },
      {
        metric: "slow age slope, last frames",
        unit: "s/s",
        digits: 2,
        get: (o) => num(o.lastSlope),
      },
      { metric: "slow age trend", headline: true, get: (o) => trend(o) },
      {
        metric: "frames skipped between slow reads p50",
        digits: 1,
        get: (o) => num(summarize(skippedBetweenReads(o.slow.frames, cfg.fps)).p50),
      },
      {
        metric: "server send queue to slow client, max",
        unit: "KB",
        better: "lower",
        digits: 0,
        headline: true,
        get: (o) => (o.slow.maxSendQueue === null ? null : o.slow.maxSendQueue / 1024),
      },
      {
        metric: "server send queue to slow client, end",
        unit: "KB",
        better: "lower",
        digits: 0,
        get: (o) => (o.slow.lastSendQueue === null ? null : o.slow.lastSendQueue / 1024),
      },
      {
        metric: "  the same in frames (= s of lag at 1 read/s)",
        better: "lower",
        digits: 0,
        get: (o) => {
          const size = summarize(o.slow.frames.map((f) => f.bytes)).mean;
          return o.slow.lastSendQueue === null ? null : num(o.slow.lastSendQueue / size);
        },
      },
      { metric: "server CPU", unit: "s", better: "lower", get: (o) => o.window.serverCpuSeconds },
      ...peakMemoryRows<SlowOutcome>((o) => o.window),
    ]);
    const warnings = failureWarnings(outcomes, (v, kind) => {
      const out = loadWarnings(kind, v.window);
      if (v.slow.error) out.push(`${kind}: slow client: ${v.slow.error}`);
      if (trend(v) === "growing") {
        out.push(`${kind}: the slow client's frame age grows (a backlog builds up)`);
      }
      return out;
    });
    const k = outcomes.find((o) => o.value?.ends.k)?.value?.ends.k ?? 5;
    return {
      name: "slow",
      title: this.title,
      columns: outcomes.map((o) => o.kind),
      compare: true,
      rows,
      notes: [
        `${seconds} s; the slow client sets SO_RCVBUF=8192 before connect, reads one whole part, ` +
        "sleeps 1 s, repeats.",
        "frame age = time the part was fully read - its X-Timestamp; the seed sends no " +
        "X-Timestamp, so its ages are n/a.",
        `trend compares the median age of the first ${k} and last ${k} frames: flat if up by at ` +
        `most ${GROWING_DELTA_S} s, else growing while the last ${k} still age faster than ` +
        `${STILL_GROWING_SLOPE} s/s, levelled off when not; skipped = frames between two reads by ` +
        `X-Timestamp (0: every frame is queued for the reader; ~${
          cfg.fps - 1
        }: it gets the newest).`,
        "send queue = bytes the server's kernel holds for the slow client (/proc/net/tcp " +
        "tx_queue): Linux autotunes a loopback send buffer up to 4 MiB, a backlog of frames " +
        "that no user-space 'newest frame only' logic can drop once written.",
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.kind, o.value ?? { error: o.error }])),
    };
  },
};
