/**
 * Reading a whole file, but never more than a bound: every file tuchuan reads (offline image,
 * folder frames, recordings' heads) goes through here, so `/dev/zero` or a 300 MB mistake costs
 * nothing but an error message.
 *
 * @module
 */

/** A file that is too big, not a regular file, or unreadable. */
export class FileReadError extends Error {
  /** @param message names the file; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FileReadError";
  }
}

/** Formats a byte count for messages (`16 MiB`, `300 KiB`). */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1048576).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * Reads `path` whole when it is a regular file of at most `maxBytes`. The size is checked before
 * reading and the read itself stops at the bound, so a file that grows meanwhile (or a device
 * that lies about its size) cannot exceed it.
 *
 * @throws {FileReadError} naming `what` and the path.
 */
export function readFileBounded(path: string, maxBytes: number, what: string): Uint8Array {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (cause) {
    throw new FileReadError(`Cannot read ${what} ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const info = file.statSync();
    if (!info.isFile) {
      throw new FileReadError(`Cannot read ${what} ${path}: not a regular file`);
    }
    if (info.size > maxBytes) {
      throw new FileReadError(
        `Cannot read ${what} ${path}: ${formatBytes(info.size)} is over the ${
          formatBytes(maxBytes)
        } limit`,
      );
    }
    const buf = new Uint8Array(Math.min(info.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const n = file.readSync(buf.subarray(filled));
      if (n === null || n === 0) break;
      filled += n;
      if (filled > maxBytes) {
        throw new FileReadError(
          `Cannot read ${what} ${path}: it grew over the ${formatBytes(maxBytes)} limit`,
        );
      }
      if (filled === buf.byteLength) break;
    }
    return buf.subarray(0, filled);
  } finally {
    file.close();
  }
}

/** Reads at most the first `n` bytes of `path` (or fewer when it is shorter). */
export async function readHead(path: string | URL, n: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const got = await file.read(buf.subarray(filled));
      if (got === null || got === 0) break;
      filled += got;
    }
    return buf.subarray(0, filled);
  } finally {
    file.close();
  }
}
