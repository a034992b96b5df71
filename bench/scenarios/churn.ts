/**
 * `churn`: hundreds of viewers that connect, wait for one picture and leave, one after another.
 * How long does a viewer wait for its first frame, and does the server forget every viewer that
 * left (tuchuan's `/state` must count 0 clients; its memory must not grow)?
 *
 * @module
 */
import { replaySpec, withServer } from "../launch.ts";
import { timeToFirstFrame } from "../load_client.ts";
import { rawGetText } from "../raw_http.ts";
import {
  type BenchConfig,
  errorMessage,
  failureWarnings,
  num,
  perServer,
  type RowDef,
  rowsFor,
  type Scenario,
  type ScenarioResult,
  sleep,
} from "../scenario.ts";
import type { ServerProcess } from "../server_process.ts";
import { summarize, type Summary } from "../stats.ts";
import { peakMemoryRows } from "./window_rows.ts";

const CYCLES = { full: 500, quick: 40 };
/** Upper bound on the cycles' wall time, so a slow server cannot stretch the run. */
const MAX_MS = { full: 45_000, quick: 8000 };
/** How long `/state` may take to drop the last viewer after it left. */
const STATE_SETTLE_MS = 3000;

/** What the churn measured on one server. */
interface ChurnOutcome {
  readonly attempted: number;
  readonly ok: number;
  readonly failures: number;
  readonly firstError?: string;
  readonly badFirstFrames: number;
  readonly firstFrameMs: Summary;
  readonly cyclesPerSecond: number;
  /** `/state` clients after the churn (tuchuan), null when the server has no /state. */
  readonly stateClients: number | null;
  /** How long `/state` took to reach 0, ms (NaN when it never did or there is no /state). */
  readonly stateSettleMs: number;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly pssBeforeMb: number;
  readonly pssAfterMb: number;
  /** Peak tree RSS and PSS from launch to the end of the churn, MiB. */
  readonly peakRssMb: number;
  readonly peakPssMb: number;
  readonly serverCpuSeconds: number;
}

/** The number of clients in a `/state` document (a number, or a list of clients). */
export function clientsInState(state: unknown): number | null {
  if (!state || typeof state !== "object") return null;
  const clients = (state as Record<string, unknown>).clients;
  if (typeof clients === "number") return clients;
  if (Array.isArray(clients)) return clients.length;
  if (clients && typeof clients === "object") {
    const count = (clients as Record<string, unknown>).count;
    if (typeof count === "number") return count;
  }
  return null;
}

/** Polls `/state` until it reports 0 clients or `STATE_SETTLE_MS` passes. */
async function settleState(port: number): Promise<{ clients: number | null; ms: number }> {
  const t0 = performance.now();
  let clients: number | null = null;
  for (;;) {
    try {
      const res = await rawGetText(port, "/state", 2000);
      clients = res.status === 200 ? clientsInState(JSON.parse(res.text)) : null;
    } catch {
      clients = null;
    }
    const ms = performance.now() - t0;
    if (clients === 0) return { clients, ms };
    if (ms > STATE_SETTLE_MS) return { clients, ms: NaN };
    await sleep(100);
  }
}

async function churn(cfg: BenchConfig, server: ServerProcess): Promise<ChurnOutcome> {
  const mode = cfg.quick ? "quick" : "full";
  const target = { port: server.port, path: "/stream", strict: server.spec.kind === "tuchuan" };
  await sleep(500);
  const rssBeforeMb = server.sampler.sample({ pss: true }) / 1024;
  const pssBeforeMb = server.sampler.lastPssKb / 1024;
  const cpu0 = server.sampler.cpuSeconds();
  const times: number[] = [];
  let attempted = 0;
  let failures = 0;
  let bad = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  while (attempted < CYCLES[mode] && performance.now() - t0 < MAX_MS[mode]) {
    attempted++;
    try {
      const r = await timeToFirstFrame(target, 5000);
      times.push(r.ms);
      if (r.bad) bad++;
    } catch (err) {
      failures++;
      firstError ??= errorMessage(err);
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  const state = server.spec.kind === "tuchuan"
    ? await settleState(server.port)
    : { clients: null, ms: NaN };
  // Give the server a moment to free what the viewers held before reading its memory.
  await sleep(500);
  const rssAfterMb = server.sampler.sample({ pss: true }) / 1024;
  const pssAfterMb = server.sampler.lastPssKb / 1024;
  return {
    attempted,
    ok: times.length,
    failures,
    firstError,
    badFirstFrames: bad,
    firstFrameMs: summarize(times),
    cyclesPerSecond: attempted / elapsed,
    stateClients: state.clients,
    stateSettleMs: state.ms,
    rssBeforeMb,
    rssAfterMb,
    pssBeforeMb,
    pssAfterMb,
    peakRssMb: server.sampler.peakKb / 1024,
    peakPssMb: server.sampler.peakPssKb / 1024,
    serverCpuSeconds: server.sampler.cpuSeconds() - cpu0,
  };
}

/**
 * The server's memory of kind `what` (RSS or PSS) before and after the churn; only "after" ranks
 * the servers, "before" is the baseline it is read against.
 */
function beforeAfterRows(
  what: string,
  before: (o: ChurnOutcome) => number,
  after: (o: ChurnOutcome) => number,
): RowDef<ChurnOutcome>[] {
  return [
    { metric: `server ${what} before`, unit: "MB", digits: 1, get: before },
    { metric: `server ${what} after`, unit: "MB", better: "lower", digits: 1, get: after },
  ];
}

/** The `churn` scenario. */
export const churnScenario: Scenario = {
  name: "churn",
  title: "sequential connect -> first frame -> close cycles, 640x480 @ 30",
  estimateSeconds: (quick) => quick ? 8 : 40,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    const outcomes = await perServer(cfg, async (kind) => {
      const run = await withServer(cfg, replaySpec(cfg, kind), (server) => churn(cfg, server));
      const o = run.value;
      cfg.log(
        `  ${kind}: ${o.ok}/${o.attempted} cycles, first frame p50 ` +
          `${o.firstFrameMs.p50.toFixed(1)} ms, /state clients ${o.stateClients ?? "n/a"}`,
      );
      return o;
    });
    const rows = rowsFor<ChurnOutcome>(outcomes, [
      { metric: "cycles ok / attempted", get: (o) => `${o.ok}/${o.attempted}` },
      { metric: "failed cycles", better: "lower", digits: 0, get: (o) => o.failures },
      { metric: "cycles per second", better: "higher", digits: 1, get: (o) => o.cyclesPerSecond },
      {
        metric: "connect -> first frame p50",
        unit: "ms",
        better: "lower",
        digits: 1,
        headline: true,
        get: (o) => num(o.firstFrameMs.p50),
      },
      {
        metric: "connect -> first frame p95",
        unit: "ms",
        better: "lower",
        digits: 1,
        get: (o) => num(o.firstFrameMs.p95),
      },
      {
        metric: "connect -> first frame max",
        unit: "ms",
        better: "lower",
        digits: 1,
        get: (o) => num(o.firstFrameMs.max),
      },
      { metric: "bad first frames", better: "lower", digits: 0, get: (o) => o.badFirstFrames },
      {
        metric: "/state clients after",
        digits: 0,
        headline: true,
        get: (o) => o.stateClients,
      },
      {
        metric: "/state reached 0 after",
        unit: "ms",
        digits: 0,
        get: (o) => num(o.stateSettleMs),
      },
      ...beforeAfterRows("RSS", (o) => o.rssBeforeMb, (o) => o.rssAfterMb),
      {
        metric: "server RSS growth",
        unit: "MB",
        digits: 1,
        get: (o) => o.rssAfterMb - o.rssBeforeMb,
      },
      ...beforeAfterRows("PSS", (o) => o.pssBeforeMb, (o) => o.pssAfterMb),
      ...peakMemoryRows<ChurnOutcome>((o) => o),
      { metric: "server CPU", unit: "s", better: "lower", get: (o) => o.serverCpuSeconds },
    ]);
    const warnings = failureWarnings(outcomes, (v, kind) => {
      const out: string[] = [];
      if (v.failures) out.push(`${kind}: ${v.failures} cycles failed: ${v.firstError}`);
      if (v.badFirstFrames) out.push(`${kind}: ${v.badFirstFrames} bad first frames`);
      if (kind === "tuchuan" && v.stateClients !== 0) {
        out.push(`tuchuan: /state clients = ${v.stateClients ?? "unreadable"} after churn`);
      }
      if (v.attempted < CYCLES[mode]) {
        out.push(
          `${kind}: only ${v.attempted} of ${CYCLES[mode]} cycles within ${MAX_MS[mode] / 1000} s`,
        );
      }
      return out;
    });
    return {
      name: "churn",
      title: this.title,
      columns: outcomes.map((o) => o.kind),
      compare: true,
      rows,
      notes: [
        `${CYCLES[mode]} cycles (at most ${MAX_MS[mode] / 1000} s): connect, GET /stream, ` +
        "first complete JPEG part, close.",
        "the seed has no /state; tuchuan's /state is polled until it counts 0 clients " +
        `(at most ${STATE_SETTLE_MS / 1000} s).`,
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.kind, o.value ?? { error: o.error }])),
    };
  },
};
