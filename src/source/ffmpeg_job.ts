/**
 * The ffmpeg job for an input under an encode plan: what ffmpeg outputs, how it scales and turns
 * the picture, at which rate.
 *
 * @module
 */
import type { EncodePlan } from "../plan/encode_plan.ts";
import type { FfmpegInput, FfmpegJob } from "./ffmpeg_args.ts";

/**
 * The job for `input` as `plan` says. `fps` is an output rate for ffmpeg to convert to (null to
 * keep the input's); it is ignored when ffmpeg copies JPEGs, which cannot drop frames.
 */
export function ffmpegJob(
  input: FfmpegInput,
  plan: EncodePlan,
  quality: number,
  fps: number | null,
): FfmpegJob {
  const output = plan.ffmpeg ?? "copy";
  return {
    input,
    output,
    fps: output === "copy" ? null : fps,
    scale: plan.scale,
    orient: plan.orientation.ffmpeg,
    quality,
  };
}
