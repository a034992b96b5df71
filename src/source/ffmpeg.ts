/**
 * Capture through ffmpeg, driven by fluent-ffmpeg: the only file that imports it.
 *
 * ffmpeg writes either raw RGBA frames (for the imagescript path: overlay, encode) or a stream of
 * JPEGs (passthrough: `-c:v copy` from MJPEG inputs, ffmpeg's own encoder otherwise) to its
 * stdout. Killing it is part of every exit path: an abort, the consumer stopping, an error.
 *
 * @module
 */
import ffmpeg from "fluent-ffmpeg";
import type { Clock, SourceFrame } from "../frame.ts";
import type { BufferPool } from "../buffer_pool.ts";
import { jpegInfo } from "../jpeg_info.ts";
import { JpegSplitter } from "./jpeg_splitter.ts";
import { redactUrls, SourceError, type SourceKind } from "./source.ts";

/** What ffmpeg should read and produce. */
export interface FfmpegSpec {
  kind: Exclude<SourceKind, "replay">;
  /** `testsrc`, a path, a folder or a URL. */
  input: string;
  width: number;
  height: number;
  fps: number;
  /** "rgba" raw frames, "encode" JPEGs from ffmpeg's encoder, "copy" the input's own JPEGs. */
  output: "rgba" | "encode" | "copy";
  /** JPEG quality 1..100 for "encode". */
  quality: number;
}

/** Counters the capture keeps for `/metrics`. */
export interface CaptureHooks {
  /** Called with the pid once ffmpeg runs. */
  onSpawn?: (pid: number, commandLine: string) => void;
  /** A JPEG from ffmpeg failed the structural check and was dropped. */
  onCorrupt?: () => void;
  /** Where raw frames get their pixel buffers (recycled by the encoder side). */
  buffers?: BufferPool;
}

/** Maps JPEG quality 1..100 onto ffmpeg's `-q:v` scale (2 best .. 31 worst). */
export function qualityToQscale(quality: number): number {
  return Math.round(31 - (Math.min(100, Math.max(1, quality)) - 1) * 29 / 99);
}

/** The ffmpeg input and output options for a spec (exported for tests and `/state`). */
export function ffmpegArgs(
  spec: FfmpegSpec,
): { input: string; inputOptions: string[]; outputOptions: string[]; format: string } {
  const { width: w, height: h, fps } = spec;
  // Quiet stderr so its last line is the error a user should see, not a progress line.
  const inputOptions = ["-hide_banner", "-nostats", "-loglevel", "error"];
  let input = spec.input;
  switch (spec.kind) {
    case "testsrc":
      input = `testsrc2=size=${w}x${h}:rate=${fps}`;
      inputOptions.push("-re", "-f", "lavfi");
      break;
    case "file":
      // Loop the file and pace it in real time, as a camera would deliver it.
      inputOptions.push("-re", "-stream_loop", "-1");
      break;
    case "folder":
      input = `${spec.input.replace(/\/+$/, "")}/*.[jJ][pP]*[gG]`;
      inputOptions.push(
        "-re",
        "-stream_loop",
        "-1",
        "-framerate",
        String(fps),
        "-pattern_type",
        "glob",
        "-f",
        "image2",
      );
      break;
    case "v4l2":
      inputOptions.push("-f", "v4l2", "-video_size", `${w}x${h}`, "-framerate", String(fps));
      // Ask the camera for its own MJPEG when we pass JPEG through: no decode, no encode.
      if (spec.output === "copy") inputOptions.push("-input_format", "mjpeg");
      break;
    case "url":
      if (/^rtsps?:/i.test(spec.input)) {
        inputOptions.push("-rtsp_transport", "tcp", "-timeout", "5000000");
      } else {
        // A stalled HTTP peer must surface as an error, not a silent hang.
        inputOptions.push("-rw_timeout", "5000000");
      }
      inputOptions.push("-fflags", "nobuffer");
      break;
  }
  const scale = `fps=${fps},scale=${w}:${h}`;
  let outputOptions: string[];
  let format: string;
  if (spec.output === "rgba") {
    outputOptions = ["-an", "-vf", scale, "-pix_fmt", "rgba"];
    format = "rawvideo";
  } else if (spec.output === "encode") {
    outputOptions = [
      "-an",
      "-vf",
      scale,
      "-c:v",
      "mjpeg",
      "-pix_fmt",
      "yuvj420p",
      "-q:v",
      String(qualityToQscale(spec.quality)),
    ];
    format = "mjpeg";
  } else {
    outputOptions = ["-an", "-c:v", "copy"];
    // image2pipe writes the packets as they are; the mjpeg muxer refuses an image2 input whose
    // dimensions it has not probed ("dimensions not set").
    format = "image2pipe";
  }
  return { input, inputOptions, outputOptions, format };
}

/**
 * Runs ffmpeg for `spec` and yields its frames until it exits, fails or `signal` aborts.
 * Throws `SourceError` carrying ffmpeg's last stderr line when ffmpeg fails.
 */
export async function* ffmpegFrames(
  spec: FfmpegSpec,
  signal: AbortSignal,
  clock: Clock,
  hooks: CaptureHooks = {},
): AsyncGenerator<SourceFrame> {
  if (signal.aborted) return;
  const args = ffmpegArgs(spec);
  const command = ffmpeg(args.input)
    .inputOptions(args.inputOptions)
    .outputOptions(args.outputOptions)
    .format(args.format);
  const stderr: string[] = [];
  let failure: Error | null = null;
  let exited = false;
  const done = new Promise<void>((resolve) => {
    command.on("error", (err: Error) => {
      failure = err;
      exited = true;
      resolve();
    });
    command.on("end", () => {
      exited = true;
      resolve();
    });
  });
  command.on("stderr", (line: string) => {
    if (line.trim()) stderr.push(line.trim());
    if (stderr.length > 8) stderr.shift();
  });
  command.on("start", (commandLine: string) => {
    const pid = (command as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid;
    if (pid) hooks.onSpawn?.(pid, commandLine);
  });
  const kill = () => {
    try {
      command.kill("SIGKILL");
    } catch {
      // Not started yet or already gone.
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  const out = command.pipe() as unknown as AsyncIterable<Uint8Array>;
  try {
    if (spec.output === "rgba") {
      yield* rawFrames(out, spec.width, spec.height, clock, hooks.buffers);
    } else {
      yield* jpegFrames(out, clock, hooks);
    }
  } finally {
    signal.removeEventListener("abort", kill);
    if (!exited) kill();
    await done;
  }
  if (signal.aborted) return;
  if (failure) {
    const reason = stderr.at(-1) ?? (failure as Error).message;
    throw new SourceError(`ffmpeg failed: ${redactUrls(reason)}`, { cause: failure });
  }
}

async function* rawFrames(
  out: AsyncIterable<Uint8Array>,
  width: number,
  height: number,
  clock: Clock,
  buffers?: BufferPool,
): AsyncGenerator<SourceFrame> {
  const size = width * height * 4;
  const take = () => buffers?.take(size) ?? new Uint8Array(size);
  let frame = take();
  let filled = 0;
  for await (const chunk of out) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const n = Math.min(size - filled, chunk.byteLength - offset);
      frame.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === size) {
        yield { kind: "rgba", width, height, data: frame, capturedAt: clock.now() };
        // A new (or recycled) buffer per frame: the previous one now belongs to the encoder.
        frame = take();
        filled = 0;
      }
    }
  }
}

async function* jpegFrames(
  out: AsyncIterable<Uint8Array>,
  clock: Clock,
  hooks: CaptureHooks,
): AsyncGenerator<SourceFrame> {
  const jpegs = ReadableStream.from(out).pipeThrough(new JpegSplitter());
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

/** True when ffmpeg can be run (checked once by the `auto` source). */
export async function ffmpegAvailable(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(Deno.env.get("FFMPEG_PATH") ?? "ffmpeg", {
      args: ["-version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}
