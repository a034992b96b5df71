/**
 * The ffmpeg command line for a capture, as plain data: what to read (`FfmpegInput`) and what
 * to write to tuchuan (`FfmpegOutput` of the encode plan). Pure, so tests check it without
 * running ffmpeg; `ffmpeg.ts` runs it.
 *
 * @module
 */
import type { Size } from "../core/frame.ts";
import type { OrientationSteps } from "../core/orientation.ts";
import type { FfmpegOutput, SizeMode } from "../plan/encode_plan.ts";

/** What ffmpeg reads. */
export type FfmpegInput =
  | { readonly kind: "testsrc"; readonly size: Size; readonly fps: number }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "folder"; readonly dir: string; readonly fps: number }
  | {
    readonly kind: "v4l2";
    readonly device: string;
    /** ffmpeg's name of the pixel format asked from the camera: mjpeg, yuyv422, nv12, … */
    readonly inputFormat: string;
    readonly size: Size;
    readonly fps: number;
  }
  | { readonly kind: "url"; readonly url: string };

/** A whole capture: input, output and the filters between them. */
export interface FfmpegJob {
  readonly input: FfmpegInput;
  readonly output: FfmpegOutput;
  /** Output frame rate (drops or repeats frames), or null to keep the input's. */
  readonly fps: number | null;
  /** Scale into this box, or null for the input's size. */
  readonly scale: { readonly box: Size; readonly mode: SizeMode } | null;
  /** Mirror and turn, or null. */
  readonly orient: OrientationSteps | null;
  /** JPEG quality 1..100 for the "mjpeg" output. */
  readonly quality: number;
}

/** The arguments in fluent-ffmpeg's terms: input, its options, output options and format. */
export interface FfmpegArgs {
  readonly input: string;
  readonly inputOptions: readonly string[];
  readonly outputOptions: readonly string[];
  readonly format: string;
}

/** Maps JPEG quality 1..100 onto ffmpeg's `-q:v` scale (2 best .. 31 worst). */
export function qualityToQscale(quality: number): number {
  return Math.round(31 - (Math.min(100, Math.max(1, quality)) - 1) * 29 / 99);
}

/**
 * An HTTP URL without its user-info, and the `Authorization` header that carries it instead,
 * so that `ps` shows no password in ffmpeg's command line.
 */
export function splitCredentials(url: string): { url: string; authorization: string | null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url, authorization: null };
  }
  if (!/^https?:$/.test(parsed.protocol) || (!parsed.username && !parsed.password)) {
    return { url, authorization: null };
  }
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  return {
    url: parsed.href,
    authorization: `Basic ${btoa(String.fromCharCode(...bytes))}`,
  };
}

/** The filter chain: frame rate, then mirror and turn, then scaling into the box. */
export function ffmpegFilters(job: FfmpegJob): string[] {
  const filters: string[] = [];
  if (job.fps !== null) filters.push(`fps=${job.fps}`);
  if (job.orient) {
    if (job.orient.mirror) filters.push("hflip");
    if (job.orient.turn === 90) filters.push("transpose=clock");
    if (job.orient.turn === 180) filters.push("hflip", "vflip");
    if (job.orient.turn === 270) filters.push("transpose=cclock");
  }
  if (job.scale) {
    const { box: { width: w, height: h }, mode } = job.scale;
    if (mode === "stretch") filters.push(`scale=${w}:${h}`);
    else if (mode === "crop") {
      filters.push(`scale=${w}:${h}:force_original_aspect_ratio=increase`, `crop=${w}:${h}`);
    } else {
      filters.push(`scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2`);
    }
  }
  return filters;
}

/** The ffmpeg arguments for `job`. */
export function ffmpegArgs(job: FfmpegJob): FfmpegArgs {
  // Quiet stderr so its last line is the error a user should see, not a progress line.
  const inputOptions = ["-hide_banner", "-nostats", "-loglevel", "error"];
  const input = job.input;
  let source: string;
  switch (input.kind) {
    case "testsrc":
      source = `testsrc2=size=${input.size.width}x${input.size.height}:rate=${input.fps}`;
      inputOptions.push("-re", "-f", "lavfi");
      break;
    case "file":
      source = input.path;
      // Loop the file and pace it in real time, as a camera would deliver it.
      inputOptions.push("-re", "-stream_loop", "-1");
      break;
    case "folder":
      source = `${input.dir.replace(/\/+$/, "")}/*.[jJ][pP]*[gG]`;
      inputOptions.push(
        "-re",
        "-stream_loop",
        "-1",
        "-framerate",
        String(input.fps),
        "-pattern_type",
        "glob",
        "-f",
        "image2",
      );
      break;
    case "v4l2":
      source = input.device;
      inputOptions.push(
        "-f",
        "v4l2",
        "-input_format",
        input.inputFormat,
        "-video_size",
        `${input.size.width}x${input.size.height}`,
        "-framerate",
        String(input.fps),
      );
      break;
    case "url": {
      if (/^rtsps?:/i.test(input.url)) {
        source = input.url;
        inputOptions.push("-rtsp_transport", "tcp", "-timeout", "5000000");
      } else {
        const split = splitCredentials(input.url);
        source = split.url;
        // A stalled HTTP peer must surface as an error, not a silent hang.
        inputOptions.push("-rw_timeout", "5000000");
        if (split.authorization) {
          inputOptions.push("-headers", `Authorization: ${split.authorization}\r\n`);
        }
      }
      inputOptions.push("-fflags", "nobuffer");
      break;
    }
  }
  const filters = ffmpegFilters(job);
  const vf = filters.length > 0 ? ["-vf", filters.join(",")] : [];
  // A camera's frames go out one for one, as they come. ffmpeg's default for the mjpeg and
  // image2pipe muxers is a constant output rate: when the camera delivers late (a busy machine)
  // it repeats frames to fill the gap and drops others, so viewers got byte-identical copies
  // instead of the camera's own pictures (measured on vivid: 26 repeats in 100 frames). Not
  // `passthrough` either: two frames closer together than the rate's tick get the same
  // timestamp, which ffmpeg's MJPEG encoder refuses ("Invalid pts"), ending the capture; `vfr`
  // drops the second instead. `-fps_mode` needs ffmpeg 5.1 (Debian 12).
  const sync = input.kind === "v4l2" ? ["-fps_mode", "vfr"] : [];
  let outputOptions: string[];
  let format: string;
  switch (job.output) {
    case "rgba":
      // PAM images carry their own size, so the reader needs no advance knowledge of what
      // "fit inside the box" made of an input whose size was unknown.
      outputOptions = ["-an", ...sync, ...vf, "-pix_fmt", "rgba", "-c:v", "pam"];
      format = "image2pipe";
      break;
    case "mjpeg":
      outputOptions = [
        "-an",
        ...sync,
        ...vf,
        "-c:v",
        "mjpeg",
        "-pix_fmt",
        "yuvj420p",
        "-q:v",
        String(qualityToQscale(job.quality)),
      ];
      format = "mjpeg";
      break;
    case "copy":
      // image2pipe writes the packets as they are; the mjpeg muxer refuses an image2 input whose
      // dimensions it has not probed ("dimensions not set").
      outputOptions = ["-an", "-c:v", "copy"];
      format = "image2pipe";
      break;
  }
  return { input: source, inputOptions, outputOptions, format };
}

/** The command line as a person would type it, for debug logs (secrets still to be redacted). */
export function commandLine(args: FfmpegArgs): string {
  const quote = (a: string) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
  return ["ffmpeg", ...ffmpegArgv(args)].map(quote).join(" ");
}

/** The arguments after `ffmpeg` for `args`, in the order fluent-ffmpeg passes them. */
export function ffmpegArgv(args: FfmpegArgs): string[] {
  return [
    ...args.inputOptions,
    "-i",
    args.input,
    ...args.outputOptions,
    "-f",
    args.format,
    "pipe:1",
  ];
}
