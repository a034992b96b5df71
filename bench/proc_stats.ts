/**
 * CPU time and memory of a server's whole process tree, read from Linux `/proc` (every file with
 * a size bound, {@link readProcText}).
 *
 * A server is measured as a tree because tuchuan's work is split between the Deno process and its
 * ffmpeg child; counting only the root would flatter it. CPU is the root's user+system time plus
 * `cutime`/`cstime` (children it already reaped) plus the live descendants' own times. RSS is summed
 * over the live tree and its peak is sampled every 100 ms by {@link TreeSampler}.
 *
 * RSS counts every shared page once per process that maps it: four Deno processes each count the
 * whole `deno` binary and its libraries. PSS (`/proc/PID/smaps_rollup`) divides each shared page
 * among the processes that map it, so a tree's summed PSS counts shared libraries once: it is the
 * memory the tree really costs the machine. Reading `smaps_rollup` walks the page tables (~1.5 ms
 * for a Deno process here, paid by the reader), so PSS is sampled every 500 ms, not every 100.
 *
 * For idle costs of a few ms per second, `stat`'s 10 ms clock ticks are too coarse: there the
 * nanosecond run times of `/proc/PID/task/TID/schedstat` are summed ({@link treeCpuNs}).
 *
 * @module
 */
import { readProcTextOrNull } from "../src/core/proc_read.ts";

/** Clock ticks per second for `/proc/PID/stat` times (`getconf CLK_TCK`: 100 on Linux x86/arm). */
export const CLK_TCK = 100;

/** The fields of `/proc/PID/stat` the benchmark uses, times in clock ticks. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
}

/**
 * Parses one `/proc/PID/stat` line. The command name (field 2) may contain spaces and parentheses,
 * so the fixed fields are counted from the *last* `)`.
 */
export function parseProcStat(line: string): ProcStat {
  const close = line.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const pid = Number.parseInt(line, 10);
  // After ") ": field 3 (state) is index 0, so field N is index N - 3.
  const rest = line.slice(close + 2).split(" ");
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid,
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

/** `/proc/PID/stat` of a live process, or `null` when it has exited (a race we must tolerate). */
export function readProcStat(pid: number): ProcStat | null {
  const text = readProcTextOrNull(`/proc/${pid}/stat`);
  if (text === null) return null;
  try {
    return parseProcStat(text);
  } catch {
    return null; // Read while the process was being torn down.
  }
}

/** Resident set size of one process in KiB (`VmRSS`), 0 when it has exited or is a zombie. */
export function readRssKb(pid: number): number {
  const status = readProcTextOrNull(`/proc/${pid}/status`);
  const m = status === null ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** The `Rss:` and `Pss:` lines of `/proc/PID/smaps_rollup`, in KiB. */
export interface SmapsRollup {
  readonly rssKb: number;
  readonly pssKb: number;
}

/**
 * Parses `/proc/PID/smaps_rollup`; `null` when it has no `Pss:` line (a kernel thread, or a
 * process that exited between open and read, leaves the file empty).
 */
export function parseSmapsRollup(text: string): SmapsRollup | null {
  const pss = /^Pss:\s+(\d+)\s+kB/m.exec(text);
  if (!pss) return null;
  const rss = /^Rss:\s+(\d+)\s+kB/m.exec(text);
  return { rssKb: rss ? Number(rss[1]) : NaN, pssKb: Number(pss[1]) };
}

/** Proportional set size of one process in KiB, 0 when it has exited. */
export function readPssKb(pid: number): number {
  const text = readProcTextOrNull(`/proc/${pid}/smaps_rollup`);
  return (text === null ? null : parseSmapsRollup(text))?.pssKb ?? 0;
}

/**
 * The run time in nanoseconds from a `schedstat` line (`run_ns wait_ns timeslices`); NaN when
 * the line is not one.
 */
export function parseSchedstatNs(text: string): number {
  const m = /^(\d+)\s/.exec(text);
  return m ? Number(m[1]) : NaN;
}

/**
 * CPU nanoseconds of one live process: the sum over its threads' `schedstat`. Threads that
 * already exited are not counted (their time is only in `stat`'s ticks), so callers compare with
 * {@link processCpuSeconds} over the same span; 0 when the process has gone.
 */
export function processCpuNs(pid: number): number {
  let total = 0;
  for (const ns of taskCpuNs(pid).values()) total += ns;
  return total;
}

/** CPU nanoseconds of each live thread of `pid`, keyed `pid/tid`. */
function taskCpuNs(pid: number, into = new Map<string, number>()): Map<string, number> {
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return into;
  }
  for (const task of tasks) {
    const text = readProcTextOrNull(`/proc/${pid}/task/${task.name}/schedstat`);
    const ns = text === null ? NaN : parseSchedstatNs(text);
    if (Number.isFinite(ns)) into.set(`${pid}/${task.name}`, ns);
  }
  return into;
}

/**
 * CPU nanoseconds of each live thread of `root` and its live descendants, keyed `pid/tid`: two
 * readings give a window's CPU with {@link cpuNsBetween}.
 */
export function treeCpuNs(
  root: number,
  descendants = findDescendants(root),
): Map<string, number> {
  const tasks = taskCpuNs(root);
  for (const pid of descendants) taskCpuNs(pid, tasks);
  return tasks;
}

/**
 * CPU nanoseconds spent between two {@link treeCpuNs} readings by the threads alive at the
 * second. Summing each reading whole and subtracting went negative whenever a thread ended in
 * between (its whole lifetime's CPU left the sum: Deno's blocking-pool threads end after 10 s
 * idle, the folder watcher's when capture stops); a thread that ended inside the window loses
 * only its CPU of the window, which `stat`'s tick counts (reported next to it) still hold.
 */
export function cpuNsBetween(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [task, ns] of after) total += ns - (before.get(task) ?? 0);
  return total;
}

/** Two {@link TreeSampler.preciseCpu} readings' worth of CPU, and which clock it came from. */
export interface WindowCpu {
  /** CPU seconds of the tree over the window. */
  readonly seconds: number;
  /** True when from the threads' run times; false when from `stat`'s ticks (a thread ended). */
  readonly precise: boolean;
}

/**
 * A window's CPU from two {@link TreeSampler.preciseCpu} readings: the threads' nanosecond run
 * times, unless the ticks show CPU they miss (a thread or child that ended inside the window
 * took its run time with it; the ticks keep it), then the ticks. `stat` counts 10 ms ticks: one
 * viewer over a 10 s window is about 23 of them, so rounding alone moved that figure by ±4 %
 * between runs. The two clocks may differ by up to a tick per process either way.
 */
export function windowCpu(
  before: { ns: Map<string, number>; tickSeconds: number },
  after: { ns: Map<string, number>; tickSeconds: number },
): WindowCpu {
  const ns = cpuNsBetween(before.ns, after.ns) / 1e9;
  const ticks = after.tickSeconds - before.tickSeconds;
  const processes = new Set([...after.ns.keys()].map((k) => k.slice(0, k.indexOf("/")))).size;
  const slack = (2 * Math.max(1, processes)) / CLK_TCK;
  return ticks - ns > slack ? { seconds: ticks, precise: false } : { seconds: ns, precise: true };
}

/** Every live descendant of `root` (children, grandchildren, ...), found via each process's ppid. */
export function findDescendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    const stat = readProcStat(pid);
    if (!stat) continue;
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** CPU seconds of one process including the children it has reaped; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  const s = readProcStat(pid);
  return s ? (s.utime + s.stime + s.cutime + s.cstime) / CLK_TCK : 0;
}

/**
 * CPU seconds of `root` and every live descendant. A descendant that exits and is reaped moves its
 * time into the root's `cutime`/`cstime`, so the total stays monotonic (up to one tick of race).
 */
export function treeCpuSeconds(root: number, descendants = findDescendants(root)): number {
  let total = processCpuSeconds(root);
  for (const pid of descendants) total += processCpuSeconds(pid);
  return total;
}

/** Summed RSS of `root` and its live descendants, in KiB. */
export function treeRssKb(root: number, descendants = findDescendants(root)): number {
  let total = readRssKb(root);
  for (const pid of descendants) total += readRssKb(pid);
  return total;
}

/** Summed PSS of `root` and its live descendants, in KiB: shared pages counted once in all. */
export function treePssKb(root: number, descendants = findDescendants(root)): number {
  let total = readPssKb(root);
  for (const pid of descendants) total += readPssKb(pid);
  return total;
}

/** CPU seconds this benchmark process itself has used (the load clients compete for the cores). */
export function selfCpuSeconds(): number {
  return processCpuSeconds(Deno.pid);
}

/** CPU seconds of a process tree, split by who used them. */
export interface CpuBreakdown {
  readonly total: number;
  /** The root process alone (all its threads). */
  readonly root: number;
  /** Every descendant, live or reaped. */
  readonly children: number;
}

/**
 * Samples a process tree's RSS every `intervalMs` and its PSS every `pssIntervalMs`, and keeps
 * the peaks. Scanning all of `/proc` for descendants is the costly part, so the descendant list is
 * refreshed only every `rescanMs`: the sampler shares the cores with the load clients and must
 * stay cheap.
 */
export class TreeSampler {
  readonly root: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #descendants: number[] = [];
  #lastScan = -Infinity;
  #lastPssAt = -Infinity;
  #peakKb = 0;
  #lastKb = 0;
  #peakPssKb = 0;
  #lastPssKb = 0;
  readonly #intervalMs: number;
  readonly #rescanMs: number;
  readonly #pssIntervalMs: number;

  /** Prepares a sampler for the tree rooted at `root`; call {@link start}. */
  constructor(root: number, intervalMs = 100, rescanMs = 1000, pssIntervalMs = 500) {
    this.root = root;
    this.#intervalMs = intervalMs;
    this.#rescanMs = rescanMs;
    this.#pssIntervalMs = pssIntervalMs;
  }

  /** Starts sampling (one sample immediately). Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
  }

  /** Stops sampling; the peak stays readable. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Takes one sample now and returns the tree's RSS in KiB; PSS too when its interval has passed
   * (or always with `pss: true`, for the edges of a measurement window).
   */
  sample(opts: { pss?: boolean } = {}): number {
    const now = performance.now();
    if (now - this.#lastScan >= this.#rescanMs) {
      this.#descendants = findDescendants(this.root);
      this.#lastScan = now;
    }
    this.#lastKb = treeRssKb(this.root, this.#descendants);
    if (this.#lastKb > this.#peakKb) this.#peakKb = this.#lastKb;
    if (opts.pss || now - this.#lastPssAt >= this.#pssIntervalMs) {
      this.#lastPssAt = now;
      this.#lastPssKb = treePssKb(this.root, this.#descendants);
      if (this.#lastPssKb > this.#peakPssKb) this.#peakPssKb = this.#lastPssKb;
    }
    return this.#lastKb;
  }

  /** The live descendants now (a fresh scan): for tuchuan, its ffmpeg children. */
  descendants(): number[] {
    this.#descendants = findDescendants(this.root);
    this.#lastScan = performance.now();
    return [...this.#descendants];
  }

  /**
   * CPU of the tree now in nanoseconds, thread by thread (precise, for idle costs of a few ms per
   * second), and in `stat` ticks (complete: includes exited threads and reaped children).
   */
  preciseCpu(): { ns: Map<string, number>; tickSeconds: number } {
    const descendants = this.descendants();
    return {
      ns: treeCpuNs(this.root, descendants),
      tickSeconds: treeCpuSeconds(this.root, descendants),
    };
  }

  /** CPU seconds of the tree now, with a fresh descendant scan (called at window edges only). */
  cpuSeconds(): number {
    return this.cpuBreakdown().total;
  }

  /**
   * CPU seconds of the tree now, split into the root process itself and its children (live
   * descendants plus the reaped ones in the root's cutime/cstime): for tuchuan, Deno vs ffmpeg.
   */
  cpuBreakdown(): CpuBreakdown {
    this.#descendants = findDescendants(this.root);
    this.#lastScan = performance.now();
    const s = readProcStat(this.root);
    const own = s ? (s.utime + s.stime) / CLK_TCK : 0;
    const reaped = s ? (s.cutime + s.cstime) / CLK_TCK : 0;
    let live = 0;
    for (const pid of this.#descendants) live += processCpuSeconds(pid);
    return { total: own + reaped + live, root: own, children: reaped + live };
  }

  /** Highest tree RSS seen, in KiB. */
  get peakKb(): number {
    return this.#peakKb;
  }

  /** Most recent tree RSS sample, in KiB. */
  get lastKb(): number {
    return this.#lastKb;
  }

  /** Highest tree PSS seen, in KiB. */
  get peakPssKb(): number {
    return this.#peakPssKb;
  }

  /** Most recent tree PSS sample, in KiB. */
  get lastPssKb(): number {
    return this.#lastPssKb;
  }

  /** Forgets the peaks so a later phase can be measured on its own. */
  resetPeak(): void {
    this.sample({ pss: true });
    this.#peakKb = this.#lastKb;
    this.#peakPssKb = this.#lastPssKb;
  }
}
