/**
 * A measurement window with no viewer at all: what a server costs while nobody watches (its
 * capture stopped by `--idle-timeout`, or kept running by `--always-on`).
 *
 * Nothing talks to the server during the window (a `/state` poll would be work it does for us),
 * and CPU is summed from the threads' nanosecond run times: at the target of < 1 ms of CPU per
 * second, `stat`'s 10 ms ticks would read 0 or 1 tick for a whole 10 s window.
 *
 * @module
 */
import { readProcTextOrNull } from "../src/core/proc_read.ts";
import { cpuNsBetween } from "./proc_stats.ts";
import { cpuMsPerSecond } from "./stats.ts";
import { sleep } from "./scenario.ts";
import type { ServerProcess } from "./server_process.ts";

/** What the quiet window measured. */
export interface QuietMeasurement {
  readonly seconds: number;
  /** Tree CPU over the window, ms of CPU per second of wall time. */
  readonly cpuMsPerSecond: number;
  /** The same from `stat` ticks (10 ms resolution, but counts exited threads and children). */
  readonly tickCpuMsPerSecond: number;
  /** Most child processes seen at once during the window (sampled every 250 ms). */
  readonly childrenMax: number;
  /** Child processes at the end of the window. */
  readonly childrenEnd: number;
  /** Command names of the children seen, for the report. */
  readonly childNames: string[];
  /** Peak tree RSS and PSS inside the window, MiB. */
  readonly rssMb: number;
  readonly pssMb: number;
}

/** The command name of a process (`/proc/PID/comm`), or "?" once it has gone. */
function commName(pid: number): string {
  return readProcTextOrNull(`/proc/${pid}/comm`, 256)?.trim() || "?";
}

/** Measures `server` for `durationMs` without sending it anything. */
export async function measureQuiet(
  server: ServerProcess,
  durationMs: number,
): Promise<QuietMeasurement> {
  server.sampler.resetPeak();
  const names = new Set<string>();
  let childrenMax = 0;
  const countChildren = () => {
    const kids = server.sampler.descendants();
    for (const pid of kids) names.add(commName(pid));
    childrenMax = Math.max(childrenMax, kids.length);
    return kids.length;
  };
  countChildren();
  const cpu0 = server.sampler.preciseCpu();
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    await sleep(Math.min(250, Math.max(1, durationMs - (performance.now() - t0))));
    countChildren();
  }
  const cpu1 = server.sampler.preciseCpu();
  const seconds = (performance.now() - t0) / 1000;
  const childrenEnd = countChildren();
  server.sampler.sample({ pss: true });
  return {
    seconds,
    cpuMsPerSecond: cpuMsPerSecond(cpuNsBetween(cpu0.ns, cpu1.ns) / 1e6, seconds),
    tickCpuMsPerSecond: cpuMsPerSecond((cpu1.tickSeconds - cpu0.tickSeconds) * 1000, seconds),
    childrenMax,
    childrenEnd,
    childNames: [...names],
    rssMb: server.sampler.peakKb / 1024,
    pssMb: server.sampler.peakPssKb / 1024,
  };
}
