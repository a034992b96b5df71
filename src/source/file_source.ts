/**
 * A video file, looped and paced in real time (`-re -stream_loop -1`), as a camera would deliver
 * it. ffprobe looks at it first: a file with no video stream is refused at startup, instead of
 * an ffmpeg that loops over nothing at full speed.
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { SourceOffer } from "../plan/encode_plan.ts";
import { ffmpegFrames } from "./ffmpeg_frames.ts";
import { ffmpegJob } from "./ffmpeg_job.ts";
import { capFrameRate } from "./frame_rate_cap.ts";
import type { Source, SourceContext } from "./source.ts";

/** Opens a video file; throws `InputError` naming it when ffprobe finds no video in it. */
export async function openFile(path: string, ctx: SourceContext): Promise<Source> {
  const { probeMedia } = await import("./ffmpeg.ts");
  let info;
  try {
    info = await probeMedia(path);
  } catch (cause) {
    throw new InputError(`Invalid --source ${path}: ${(cause as Error).message}`, {
      cause,
      flag: "--source",
    });
  }
  if (!info) {
    throw new InputError(`Invalid --source ${path}: the file holds no video stream`, {
      flag: "--source",
    });
  }
  const jpeg = info.codec === "mjpeg";
  const offer: SourceOffer = {
    jpeg,
    native: false,
    ffmpegCanRead: true,
    size: { width: info.width, height: info.height },
    fps: info.fps,
    cameraFlip: false,
    mode: `${info.codec} ${info.width}x${info.height}${
      info.fps ? ` at ${+info.fps.toFixed(2)} fps` : ""
    }`,
    notes: [],
  };
  const plan = ctx.planner.decide(offer);
  return {
    kind: "file",
    input: path,
    offer,
    facts: () => ({ mode: offer.mode }),
    frames(signal) {
      const frames = ffmpegFrames(
        ffmpegJob({ kind: "file", path }, plan, ctx.quality, ctx.fps),
        signal,
        ctx.clock,
        ctx.hooks,
      );
      // Copied JPEGs cannot be dropped by ffmpeg: a lower --fps is kept here.
      return plan.ffmpeg === "copy" ? capFrameRate(frames, ctx.fps, ctx.clock) : frames;
    },
  };
}
