/**
 * Frames from an ffmpeg capture: runs the job (through `ffmpeg.ts`, loaded on first use) and cuts
 * its output into JPEG frames (checked, damaged ones dropped and counted) or RGBA frames.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { SourceFrame } from "../core/frame.ts";
import { jpegInfo } from "../jpeg/jpeg_info.ts";
import { JpegSplitter } from "../jpeg/jpeg_splitter.ts";
import { ffmpegArgs, type FfmpegJob } from "./ffmpeg_args.ts";
import { pamImages } from "./pam_reader.ts";
import type { CaptureHooks } from "./source.ts";

/** Yields the frames of one ffmpeg run of `job` until it ends, fails or `signal` aborts. */
export async function* ffmpegFrames(
  job: FfmpegJob,
  signal: AbortSignal,
  clock: Clock,
  hooks: CaptureHooks = {},
): AsyncGenerator<SourceFrame> {
  const { runFfmpeg } = await import("./ffmpeg.ts");
  const out = runFfmpeg(ffmpegArgs(job), signal, { onStart: hooks.onSpawn });
  if (job.output === "rgba") {
    for await (const image of pamImages(out, hooks.buffers)) {
      yield { kind: "rgba", ...image, capturedAt: clock.now() };
    }
    return;
  }
  yield* checkedJpegs(ReadableStream.from(out).pipeThrough(new JpegSplitter()), clock, hooks);
}

/**
 * Whole JPEGs as frames stamped with the time they arrived; ones that fail the structural check
 * are dropped and reported through `onCorrupt`.
 */
export async function* checkedJpegs(
  jpegs: AsyncIterable<Uint8Array>,
  clock: Clock,
  hooks: Pick<CaptureHooks, "onCorrupt">,
): AsyncGenerator<SourceFrame> {
  for await (const jpeg of jpegs) {
    const info = jpegInfo(jpeg);
    if (!info) {
      hooks.onCorrupt?.();
      continue;
    }
    yield {
      kind: "jpeg",
      width: info.width,
      height: info.height,
      data: jpeg,
      capturedAt: clock.now(),
    };
  }
}
