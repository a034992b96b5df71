/**
 * `tuchuan record`: writes any source to a fixture file, the multipart stream exactly as
 * `/stream` sends it (with `X-Timestamp` per part), which the replay source plays back at its
 * recorded timing.
 *
 * @module
 */
import { type Clock, systemClock } from "./core/clock.ts";
import { silentLogger } from "./core/logger.ts";
import type { RecordOptions } from "./config/config.ts";
import { CLOSE_NORMAL, OPEN_NORMAL, partBytes } from "./multipart/multipart_writer.ts";
import { EncodePlanner } from "./plan/encode_planner.ts";
import { openSource, resolveSource } from "./source/open_source.ts";
import type { Source } from "./source/source.ts";

/** What a recording produced. */
export interface RecordResult {
  frames: number;
  bytes: number;
  seconds: number;
  corrupt: number;
}

/**
 * Records `options.source` into `options.out` until `--duration` seconds or `--frames` frames
 * (or `signal` aborts), reporting progress through `progress`.
 */
export async function record(
  options: RecordOptions,
  deps: {
    clock?: Clock;
    signal?: AbortSignal;
    source?: Source;
    progress?: (line: string) => void;
  } = {},
): Promise<RecordResult> {
  const clock = deps.clock ?? systemClock;
  let corrupt = 0;
  let source = deps.source;
  if (!source) {
    const resolved = await resolveSource(options.source);
    // A recording holds JPEGs as the source sends them: passed through, or encoded by ffmpeg.
    const planner = new EncodePlanner(resolved.kind, {
      encoder: "auto",
      overlay: false,
      size: options.size,
      sizeMode: "fit",
      orientation: { rotate: 0, flip: "none" },
    });
    source = await openSource(resolved, {
      planner,
      clock,
      log: silentLogger,
      size: options.size,
      fps: options.fps,
      quality: options.quality,
      hooks: { onCorrupt: () => corrupt++ },
    }, { controls: [] });
  }
  const file = await Deno.open(options.out, { write: true, create: true, truncate: true });
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  deps.signal?.addEventListener("abort", onAbort, { once: true });
  let frames = 0;
  let bytes = 0;
  const started = clock.now();
  try {
    await writeAll(file, OPEN_NORMAL);
    bytes += OPEN_NORMAL.byteLength;
    const maxMs = options.frames ? Infinity : (options.duration ?? 10) * 1000;
    for await (const frame of source.frames(ac.signal)) {
      if (frame.kind !== "jpeg") continue;
      const part = partBytes({ seq: frames + 1, jpeg: frame.data, ...frame }, "normal");
      await writeAll(file, part);
      frames++;
      bytes += part.byteLength;
      const elapsed = clock.now() - started;
      deps.progress?.(
        `recorded ${frames} frames, ${(bytes / 1024).toFixed(0)} KiB, ${
          (elapsed / 1000).toFixed(1)
        } s`,
      );
      if ((options.frames && frames >= options.frames) || elapsed >= maxMs) break;
    }
    await writeAll(file, CLOSE_NORMAL);
    bytes += CLOSE_NORMAL.byteLength;
  } finally {
    ac.abort();
    deps.signal?.removeEventListener("abort", onAbort);
    file.close();
  }
  return { frames, bytes, seconds: (clock.now() - started) / 1000, corrupt };
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await file.write(data.subarray(off));
}
