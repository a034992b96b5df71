/**
 * CPU time and resident memory of a server's whole process tree, read from Linux `/proc`.
 *
 * A server is measured as a tree because tuchuan's work is split between the Deno process and its
 * ffmpeg child; counting only the root would flatter it. CPU is the root's user+system time plus
 * `cutime`/`cstime` (children it already reaped) plus the live descendants' own times. RSS is summed
 * over the live tree and its peak is sampled every 100 ms by {@link TreeSampler}.
 *
 * @module
 */

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
  try {
    return parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

/** Resident set size of one process in KiB (`VmRSS`), 0 when it has exited or is a zombie. */
export function readRssKb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
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
 * Samples a process tree's RSS every `intervalMs` and keeps the peak. Scanning all of `/proc` for
 * descendants is the costly part, so the descendant list is refreshed only every `rescanMs`: the
 * sampler shares the cores with the load clients and must stay cheap.
 */
export class TreeSampler {
  readonly root: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #descendants: number[] = [];
  #lastScan = -Infinity;
  #peakKb = 0;
  #lastKb = 0;
  readonly #intervalMs: number;
  readonly #rescanMs: number;

  /** Prepares a sampler for the tree rooted at `root`; call {@link start}. */
  constructor(root: number, intervalMs = 100, rescanMs = 1000) {
    this.root = root;
    this.#intervalMs = intervalMs;
    this.#rescanMs = rescanMs;
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

  /** Takes one sample now and returns the tree's RSS in KiB. */
  sample(): number {
    const now = performance.now();
    if (now - this.#lastScan >= this.#rescanMs) {
      this.#descendants = findDescendants(this.root);
      this.#lastScan = now;
    }
    this.#lastKb = treeRssKb(this.root, this.#descendants);
    if (this.#lastKb > this.#peakKb) this.#peakKb = this.#lastKb;
    return this.#lastKb;
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

  /** Forgets the peak so a later phase can be measured on its own. */
  resetPeak(): void {
    this.#peakKb = this.#lastKb;
  }
}
