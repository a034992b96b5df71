/**
 * Gives back the pages of tuchuan's own executable that only starting up needed.
 *
 * Starting a Deno program runs a great deal of the `deno` binary once: the dynamic loader's
 * relocation table (3.6 MB, read once), the module loader with its npm resolution and its SQLite
 * caches. Linux keeps every page of the executable a process has touched mapped into it, so those
 * pages stay in its resident set for as long as it runs. Measured (640x480 folder, one viewer,
 * after 20 s): 38 MB of the 67 MB RSS were pages of the `deno` binary (an empty script holds 22
 * MB of them); after the releases below, 15-20 MB.
 *
 * `madvise(MADV_DONTNEED)` unmaps such pages from this process. It is safe only where a page can
 * come back unchanged: the mapping is read-only (`r--p`, `r-xp`) and holds no private copy of any
 * page (`Anonymous: 0 kB` in `/proc/self/smaps`; the relocated `.data.rel.ro`, which is read-only
 * after start-up but was written to, is skipped by that test). A page still in use faults back in
 * from the page cache (a minor fault, no disk read); the rest no longer counts to this process, and
 * the kernel may reclaim it or keep it cached for the next program that runs the same binary.
 *
 * When: {@link StartupPages} gives them back once the modules are loaded (the module loader is
 * done), once the server listens (the pipeline's construction is done), once capture has started
 * (opening the source, loading a folder, its watch or fluent-ffmpeg), at the first frame, and
 * again at the frame counts of {@link RELEASE_FRAMES}, while what runs once at the start of
 * streaming runs. Only the first release reads the memory map in full ({@link ExecutablePages}).
 * Pages that are still used come back in 64 KB runs (the kernel maps the cached neighbours of a
 * faulting page too, `fault_around_bytes`), which is why streaming holds 15-20 MB of the binary,
 * not only the pages it runs.
 *
 * Linux only, and only where Deno's FFI may call libc (`--allow-ffi`, granted by `-A`).
 *
 * @module
 */
import { openLibc } from "./libc.ts";
import { readProcText } from "./proc_read.ts";

/** An address range of this process's memory map. */
export interface PageRange {
  /** First byte. */
  readonly start: bigint;
  /** One past the last byte. */
  readonly end: bigint;
  /** Resident KiB in the range when the map was read. */
  readonly residentKb: number;
}

/** What a release of the start-up pages did. */
export type PageRelease =
  | {
    readonly kind: "released";
    /**
     * Resident KiB given back: how much the process's mapped-file share of its RSS fell (some of
     * it faults back in as it runs); 0 when `/proc/self/status` cannot tell.
     */
    readonly kb: number;
    /** Ranges given back. */
    readonly ranges: number;
    /** Ranges the kernel refused (`madvise` failed); their pages stay. */
    readonly refused: number;
  }
  | { readonly kind: "unavailable"; readonly reason: string };

/**
 * `/proc/self/smaps` is about 110 KB for tuchuan (150 mappings, 700 bytes each); threads and
 * libraries add mappings. The buffer is allocated whole, so the bound is kept near what is needed.
 */
const SMAPS_MAX_BYTES = 1024 * 1024;
/** `MADV_DONTNEED` from `<sys/mman.h>`, the same number on every Linux architecture. */
const MADV_DONTNEED = 4;

const SYMBOLS = {
  madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null | undefined;

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ *(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;

/**
 * The ranges of `smaps` (the text of `/proc/PID/smaps`) that map the file `exe` read-only, hold
 * no private copy of any page, are not locked, and have pages resident: those whose pages can be
 * dropped and fault back in unchanged.
 */
export function releasableRanges(smaps: string, exe: string): PageRange[] {
  const out: PageRange[] = [];
  let current:
    | { start: bigint; end: bigint; eligible: boolean; fields: Map<string, number> }
    | null = null;
  const finish = () => {
    if (!current?.eligible) return;
    const { fields } = current;
    const rss = fields.get("Rss");
    // A field missing means an unknown layout: leave the range alone.
    if (rss === undefined || fields.get("Anonymous") !== 0 || fields.get("Locked") !== 0) return;
    if (rss > 0) out.push({ start: current.start, end: current.end, residentKb: rss });
  };
  for (const line of smaps.split("\n")) {
    const header = HEADER.exec(line);
    if (header) {
      finish();
      const [, start, end, perms, path] = header;
      current = {
        start: BigInt(`0x${start}`),
        end: BigInt(`0x${end}`),
        eligible: path === exe && perms[0] === "r" && perms[1] !== "w",
        fields: new Map(),
      };
      continue;
    }
    const field = FIELD.exec(line);
    if (field && current) current.fields.set(field[1], Number(field[2]));
  }
  finish();
  return out;
}

/** `RssFile` of `/proc/self/status`: resident KiB of files mapped into this process, or null. */
function fileResidentKb(): number | null {
  try {
    const m = /^RssFile:\s+(\d+) kB$/m.exec(readProcText("/proc/self/status"));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // Only the report loses its figure; the release itself does not need it.
  }
}

/**
 * The ranges of `cached` that `maps` (the text of `/proc/PID/maps`) still shows as the same
 * read-only mapping of `exe`. Dropping a range that no longer maps the executable could discard
 * memory that has no copy anywhere, so each later release checks first. A range written to after
 * the first read (made writable, then read-only again) would pass this check; nothing does that
 * to the executable's mappings once JavaScript runs: the loader seals its relocated data before
 * (and the first read excludes it), and V8 changes permissions only on its own anonymous code.
 */
export function rangesStillMapped(
  cached: readonly PageRange[],
  maps: string,
  exe: string,
): PageRange[] {
  const mapped = new Set<string>();
  for (const line of maps.split("\n")) {
    const header = HEADER.exec(line);
    if (header && header[4] === exe && header[3][0] === "r" && header[3][1] !== "w") {
      mapped.add(`${header[1]}-${header[2]}`);
    }
  }
  return cached.filter((r) => mapped.has(`${r.start.toString(16)}-${r.end.toString(16)}`));
}

/**
 * Drops this process's resident pages of its own executable (see the module's notes); the pages
 * still in use come back as they run.
 *
 * The first release reads `/proc/self/smaps` (about 110 KB for tuchuan, and reading it walks the
 * page tables: 1.5-2 ms, and 2-3 MB of garbage in the resident set) to find the ranges that can
 * go; the executable's mappings do not change after start-up, so later releases only check them
 * against `/proc/self/maps` (15 KB, no page-table walk) and make one system call per range (three
 * for tuchuan). That is what makes a release cheap enough for the several steps of start-up.
 */
export class ExecutablePages {
  #ranges: PageRange[] | null = null;

  /** Gives the pages back once more. */
  release(): PageRelease {
    if (Deno.build.os !== "linux") return { kind: "unavailable", reason: "not Linux" };
    libc ??= openLibc(SYMBOLS);
    if (!libc) return { kind: "unavailable", reason: "libc cannot be called through FFI" };
    let ranges: PageRange[];
    try {
      const exe = Deno.execPath();
      ranges = this.#ranges === null
        ? (this.#ranges = releasableRanges(readProcText("/proc/self/smaps", SMAPS_MAX_BYTES), exe))
        : rangesStillMapped(this.#ranges, readProcText("/proc/self/maps"), exe);
    } catch (err) {
      return { kind: "unavailable", reason: (err as Error).message };
    }
    const before = fileResidentKb();
    let released = 0;
    let refused = 0;
    for (const range of ranges) {
      if (libc.madvise(range.start, range.end - range.start, MADV_DONTNEED) === 0) released++;
      else refused++;
    }
    const after = fileResidentKb();
    const kb = before !== null && after !== null ? Math.max(0, before - after) : 0;
    return { kind: "released", kb, ranges: released, refused };
  }
}

/**
 * Drops this process's resident pages of its own executable once, reading `/proc/self/smaps`
 * for the ranges (see {@link ExecutablePages} for releasing more than once).
 */
export function releaseStartupPages(): PageRelease {
  return new ExecutablePages().release();
}

/**
 * Frame counts at which the pages are given back again while streaming starts (the last at 5 s of
 * 30 fps). What runs once at the start of streaming touches more of the binary over its first
 * seconds; with a single release at 150 frames the resident set climbed 4-5 MB before it, with
 * these steps 1-3 MB (measured: the peak after the first half second 51.7-55.0 MB with the one
 * release, 47.8-50.0 with these).
 */
export const RELEASE_FRAMES: readonly number[] = [1, 15, 45, 90, 150];

/** Options of {@link StartupPages}. */
export interface StartupPagesOptions {
  /** Gives the pages back; default: {@link ExecutablePages.release}, the ranges read once. */
  release?: () => PageRelease;
  /** Called after each release, with what it did and the moment it marks. */
  onRelease?: (result: PageRelease, when: string) => void;
  /** Frame counts to release at, ascending; default {@link RELEASE_FRAMES}. */
  releaseFrames?: readonly number[];
}

/**
 * Decides when start-up is over, in steps, and gives the pages back at each: the modules loaded,
 * the server listening, capture started, then the frame counts of {@link RELEASE_FRAMES}.
 */
export class StartupPages {
  readonly #release: () => PageRelease;
  readonly #onRelease?: (result: PageRelease, when: string) => void;
  readonly #at: readonly number[];
  #next = 0;
  #frames = 0;
  #done = false;
  #unavailable = false;

  /** @param options the release, its report, and the frame counts to release at */
  constructor(options: StartupPagesOptions = {}) {
    if (options.release) this.#release = options.release;
    else {
      const pages = new ExecutablePages();
      this.#release = () => pages.release();
    }
    this.#onRelease = options.onRelease;
    const at = options.releaseFrames ?? RELEASE_FRAMES;
    if (
      at.length === 0 ||
      at.some((n, i) => !Number.isSafeInteger(n) || n < 1 || n <= (at[i - 1] ?? 0))
    ) {
      throw new RangeError(
        `releaseFrames must be ascending integers of at least 1, got [${at.join(", ")}]`,
      );
    }
    this.#at = [...at];
  }

  /**
   * The modules are evaluated and the pipeline is about to be built: the pages of the module
   * loader (the graph, the npm resolution, the caches) go before construction touches its own.
   * Without this step, both sets were resident together when the server began listening: a peak
   * of 60-65 MB for 20-30 ms, against 53-57 with it.
   */
  loaded(): void {
    this.#run("modules loaded");
  }

  /**
   * The server listens and capture is about to start: the pages of the pipeline's and the HTTP
   * listener's construction go before capture touches its own.
   */
  listening(): void {
    this.#run("listening");
  }

  /**
   * Capture has started (the source opened, a folder read, a watch or a child started): the pages
   * of starting it go. Without the step before this one, both sets were resident together: 25-27
   * MB of the binary next to the folder's frames, against 17-21 with it.
   */
  capturing(): void {
    this.#run("capturing");
  }

  /** A frame was published (any camera); called for every frame, a compare once warm. */
  frame(): void {
    if (this.#done) return;
    const n = ++this.#frames;
    if (n !== this.#at[this.#next]) return;
    this.#next++;
    if (this.#next === this.#at.length) this.#done = true;
    this.#run(n === 1 ? "first frame" : `${n} frames`);
  }

  #run(when: string): void {
    if (this.#unavailable) return;
    const result = this.#release();
    this.#onRelease?.(result, when);
    // Nowhere to give pages back (not Linux, no FFI): no use trying at the next step.
    if (result.kind === "unavailable") this.#unavailable = this.#done = true;
  }
}
