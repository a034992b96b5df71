/**
 * `testsrc`: ffmpeg's moving test pattern, generated at `--size` (640x480 by default) and
 * `--fps` (30), so `make run` shows something alive on a machine with no camera.
 *
 * @module
 */
import type { Size } from "../core/frame.ts";
import type { SourceOffer } from "../plan/encode_plan.ts";
import { ffmpegFrames } from "./ffmpeg_frames.ts";
import { ffmpegJob } from "./ffmpeg_job.ts";
import type { Source, SourceContext } from "./source.ts";

/** The pattern's size and rate when none is asked for. */
export const TESTSRC_DEFAULT: { size: Size; fps: number } = Object.freeze({
  size: Object.freeze({ width: 640, height: 480 }),
  fps: 30,
});

/** The test pattern at the size and rate asked for. */
export function openTestsrc(ctx: SourceContext): Source {
  const size = ctx.size ?? TESTSRC_DEFAULT.size;
  const fps = ctx.fps ?? TESTSRC_DEFAULT.fps;
  const offer: SourceOffer = {
    jpeg: false,
    native: false,
    ffmpegCanRead: true,
    size,
    fps,
    cameraFlip: false,
    mode: `a ${size.width}x${size.height} pattern at ${fps} fps`,
    notes: [],
  };
  // The pattern is drawn at the size asked for: nothing to scale.
  const plan = ctx.planner.decide(offer, { size: null });
  return {
    kind: "testsrc",
    input: "testsrc",
    offer,
    facts: () => ({ mode: offer.mode }),
    frames(signal) {
      return ffmpegFrames(
        ffmpegJob({ kind: "testsrc", size, fps }, plan, ctx.quality, null),
        signal,
        ctx.clock,
        ctx.hooks,
      );
    },
  };
}
