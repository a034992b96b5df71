/**
 * Bounded polling: tuchuan's `/state` until it says what a scenario waits for (capture stopped,
 * the source online), and any other condition, instead of sleeping and hoping.
 *
 * @module
 */
import { readProcTextOrNull } from "../src/core/proc_read.ts";
import { rawGetText } from "./raw_http.ts";
import { errorMessage, sleep } from "./scenario.ts";

/** The parts of tuchuan's `/state` (top level: the first camera) the benchmark reads. */
export interface TuchuanState {
  readonly source?: {
    readonly state?: string;
    readonly online?: boolean;
    readonly running?: boolean;
    readonly mode?: string | null;
  };
  readonly encoder?: { readonly path?: string | null; readonly reason?: string };
  readonly fps?: number;
  readonly clients?: number;
  readonly cameras?: readonly TuchuanState[];
  readonly name?: string;
}

/** `GET /state` of the tuchuan on `port`, parsed. */
export async function getState(port: number, path = "/state"): Promise<TuchuanState> {
  const res = await rawGetText(port, path, 3000);
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return JSON.parse(res.text) as TuchuanState;
}

/**
 * Polls `cond` every `intervalMs` until it returns true, and resolves with the milliseconds that
 * took; throws naming `what` after `timeoutMs`. Errors thrown by `cond` count as "not yet".
 */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<number> {
  const t0 = performance.now();
  let lastError: string | undefined;
  for (;;) {
    try {
      if (await cond()) return performance.now() - t0;
      lastError = undefined;
    } catch (err) {
      lastError = errorMessage(err);
    }
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s${lastError ? ` (last: ${lastError})` : ""}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** Polls `/state` until `pred` holds; resolves with the time it took and the last state. */
export async function waitForState(
  port: number,
  what: string,
  pred: (state: TuchuanState) => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<{ ms: number; state: TuchuanState }> {
  let last: TuchuanState = {};
  const ms = await waitUntil(
    what,
    async () => {
      last = await getState(port);
      return pred(last);
    },
    timeoutMs,
    intervalMs,
  );
  return { ms, state: last };
}

/** True when the first camera's capture is online and delivering at least `minFps`. */
export function delivering(state: TuchuanState, minFps: number): boolean {
  return state.source?.online === true && (state.fps ?? 0) >= minFps;
}

/** True when every camera of `state` is online and delivering at least `minFps`. */
export function allDelivering(state: TuchuanState, minFps: number): boolean {
  const cameras = state.cameras?.length ? state.cameras : [state];
  return cameras.every((c) => delivering(c, minFps));
}

/** Number of threads of `pid` (`Threads:` of `/proc/PID/status`), 0 once it has gone. */
export function threadCount(pid: number): number {
  const m = /^Threads:\s+(\d+)/m.exec(readProcTextOrNull(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) : 0;
}
