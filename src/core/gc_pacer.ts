/**
 * Frees frame buffers soon after they are dropped. Every frame is a fresh `Uint8Array` whose
 * bytes live outside the JavaScript heap; V8 frees them only when it collects the small object
 * that owns them, and since frames add almost nothing to the heap itself, it collects rarely.
 * Measured: one viewer at 640x480, 30 fps grew the process by 17 MB of such bytes in ten seconds
 * (the heap stayed at 6 MB). A minor collection every few megabytes of frames keeps that under
 * a few MB, for about half a millisecond per collection.
 *
 * This needs V8's `gc` function, which `--v8-flags=--expose-gc` gives (`make run`, the binary
 * and the benchmark run with it); without it, nothing happens and V8 collects when it would.
 *
 * @module
 */

type Gc = (
  options?: {
    type?: "minor" | "major";
    execution?: "sync" | "async";
    flavor?: "regular" | "last-resort";
  },
) => void;

const gc = (globalThis as { gc?: Gc }).gc;

/** Bytes of frames between two collections. */
const STEP = 4 * 1024 * 1024;
let pending = 0;

/** Counts `bytes` of new frame buffers; collects the young generation every few MB. */
export function noteFrameBytes(bytes: number): void {
  if (!gc) return;
  pending += bytes;
  if (pending < STEP) return;
  pending = 0;
  gc({ type: "minor" });
}

/** True when collections can be paced (V8 runs with `--expose-gc`). */
export function gcPacing(): boolean {
  return gc !== undefined;
}

/**
 * Runs V8's most thorough collection: full collections with compaction until nothing more is
 * freed, after which V8 returns its emptied pages to the system. A plain major collection frees
 * the objects but keeps their pages (measured after 500 viewer connections: the heap's live size
 * fell from 11.3 to 6.5 MB and the process's memory did not move); this one gave back 7 MB.
 * It takes 20–45 ms on tuchuan's heap. Returns false without `--expose-gc`.
 */
export function collectAllGarbage(): boolean {
  if (!gc) return false;
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
  return true;
}
