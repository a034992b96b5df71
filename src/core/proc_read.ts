/**
 * Bounded reads of Linux `/proc` files: the benchmark's samplers and tuchuan's own look at its
 * memory map (`startup_pages.ts`).
 *
 * `read_bounded.ts` checks a file's size before reading, but every `/proc` file reports size 0, so
 * it cannot be used here: this reader stops at the bound while reading instead. The per-process
 * files the benchmark reads (`stat`, `status`, `smaps_rollup`, `schedstat`, `limits`, `cmdline`)
 * are a few hundred bytes to a few KiB; `/proc/net/tcp` grows with the number of connections
 * (~150 bytes each) and `/proc/self/smaps` with the number of mappings (~110 KB for tuchuan), so
 * their callers pass a larger bound.
 *
 * @module
 */

/** Default bound for one per-process `/proc` file. */
export const PROC_FILE_MAX_BYTES = 64 * 1024;

/** A `/proc` file that could not be read, or was larger than its bound. */
export class ProcReadError extends Error {
  /** True when the file was readable but larger than the bound (not a vanished process). */
  readonly tooLarge: boolean;
  /** @param message names the file; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions & { tooLarge?: boolean }) {
    super(message, options);
    this.name = "ProcReadError";
    this.tooLarge = options?.tooLarge ?? false;
  }
}

/**
 * One scratch buffer for the default bound: the samplers read hundreds of small files a second
 * from one thread, and a fresh 64 KiB buffer per read would be garbage for nothing.
 */
const scratch = new Uint8Array(PROC_FILE_MAX_BYTES + 1);
const decoder = new TextDecoder();

/**
 * Reads `path` whole as text, never more than `maxBytes` bytes.
 *
 * @throws {ProcReadError} naming the path when it cannot be opened (a process that has exited)
 *   or holds more than `maxBytes`.
 */
export function readProcText(path: string, maxBytes = PROC_FILE_MAX_BYTES): string {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (cause) {
    throw new ProcReadError(`Cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const buf = maxBytes <= PROC_FILE_MAX_BYTES ? scratch : new Uint8Array(maxBytes + 1);
    // One byte past the bound tells "exactly maxBytes" from "more than maxBytes".
    const limit = maxBytes + 1;
    let filled = 0;
    while (filled < limit) {
      let n: number | null;
      try {
        n = file.readSync(buf.subarray(filled, limit));
      } catch (cause) {
        throw new ProcReadError(`Cannot read ${path}: ${(cause as Error).message}`, { cause });
      }
      if (n === null || n === 0) break;
      filled += n;
    }
    if (filled > maxBytes) {
      throw new ProcReadError(`Cannot read ${path}: it holds more than ${maxBytes} bytes`, {
        tooLarge: true,
      });
    }
    return decoder.decode(buf.subarray(0, filled));
  } finally {
    file.close();
  }
}

/**
 * {@link readProcText}, or `null` when the file cannot be read: the process has exited, which
 * samplers must tolerate. A file over its bound still throws: that is a bug, not a race.
 */
export function readProcTextOrNull(path: string, maxBytes = PROC_FILE_MAX_BYTES): string | null {
  try {
    return readProcText(path, maxBytes);
  } catch (err) {
    if (err instanceof ProcReadError && !err.tooLarge) return null;
    throw err;
  }
}
