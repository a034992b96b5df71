/**
 * Running ffmpeg, through fluent-ffmpeg: the only file that imports it, and the only one that
 * starts an ffmpeg or ffprobe process. Every other module reaches it with a dynamic `import()`,
 * so a server that needs no ffmpeg (a JPEG folder, an MJPEG URL, a recording) never loads
 * fluent-ffmpeg or the Node compatibility layer under it (about 20 MB of memory).
 *
 * What fluent-ffmpeg's public surface cannot do, and what this file does instead:
 * - It does not expose the child process (its pid lives in a private field). The pid is only
 *   for the debug log, so it is looked up in `/proc` among this process's children instead.
 * - It reports a failure only for a non-zero exit. ffmpeg exits 0 when a V4L2 camera is unplugged
 *   (`VIDIOC_DQBUF: No such device`), so an exit with an error line on stderr is a failure too.
 *
 * @module
 */
// @ts-types="@types/fluent-ffmpeg"
import ffmpeg from "fluent-ffmpeg";
import { redactUrls } from "../core/redact.ts";
import { commandLine, type FfmpegArgs } from "./ffmpeg_args.ts";
import { SourceError } from "./source.ts";

/** How many stderr lines to keep for the error message. */
const STDERR_LINES = 8;

/** What a run reports besides its bytes. */
export interface FfmpegRunHooks {
  /** Called once ffmpeg runs, with its pid when /proc tells it, and the redacted command line. */
  onStart?: (pid: number | null, commandLine: string) => void;
}

/**
 * Runs ffmpeg with `args` and yields its stdout until it exits or `signal` aborts (it is then
 * killed). Throws `SourceError` with ffmpeg's last stderr line when it fails, and when it exits
 * after printing an error (a camera unplugged mid-stream exits 0).
 */
export async function* runFfmpeg(
  args: FfmpegArgs,
  signal: AbortSignal,
  hooks: FfmpegRunHooks = {},
): AsyncGenerator<Uint8Array> {
  if (signal.aborted) return;
  const command = ffmpeg(args.input)
    .inputOptions([...args.inputOptions])
    .outputOptions([...args.outputOptions])
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
    const text = line.trim();
    if (text) stderr.push(text);
    if (stderr.length > STDERR_LINES) stderr.shift();
  });
  command.on("start", () => {
    hooks.onStart?.(findChild("ffmpeg"), redactUrls(commandLine(args)));
  });
  const kill = () => {
    try {
      command.kill("SIGKILL");
    } catch {
      // Not started yet or already gone.
    }
  };
  signal.addEventListener("abort", kill, { once: true });
  const out = command.pipe() as AsyncIterable<Uint8Array>;
  try {
    for await (const chunk of out) yield chunk;
  } finally {
    signal.removeEventListener("abort", kill);
    if (!exited) kill();
    await done;
  }
  if (signal.aborted) return;
  const last = stderr.at(-1);
  if (failure || last) {
    const reason = explain(stderr) ?? (failure as Error | null)?.message ?? "ffmpeg failed";
    throw new SourceError(`ffmpeg: ${redactUrls(reason)}`, { cause: failure ?? undefined });
  }
}

/** ffmpeg's closing lines that say only that something failed, not what. */
const TRAILER =
  /^(Conversion failed!|Error submitting .* to the encoder|Error while (processing|filtering|decoding)\b.*|Exiting normally.*)$/;

/**
 * The stderr line that says why ffmpeg stopped: its last, unless that is a generic trailer
 * ("Error submitting video frame to the encoder"), then the line before it with the trailer.
 */
function explain(lines: readonly string[]): string | undefined {
  const last = lines.at(-1);
  if (last === undefined || !TRAILER.test(last)) return last;
  const cause = lines.findLast((l) => !TRAILER.test(l));
  return cause ? `${cause} (${last})` : last;
}

/** What ffprobe says about a media file's first video stream. */
export interface MediaInfo {
  width: number;
  height: number;
  /** Frames per second, or null when ffprobe gives none. */
  fps: number | null;
  codec: string;
}

/**
 * The first video stream of a file, or null when it has none. Rejects when ffprobe cannot read
 * the file at all.
 */
export function probeMedia(path: string): Promise<MediaInfo | null> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(path, (err: unknown, data: ffmpeg.FfprobeData) => {
      if (err) {
        const text = String((err as Error)?.message ?? err).trim().split("\n").at(-1) ?? "";
        reject(new SourceError(`ffprobe: ${redactUrls(text)}`));
        return;
      }
      const video = data.streams.find((s) => s.codec_type === "video" && s.width && s.height);
      if (!video) return resolve(null);
      const [num, den] = (video.avg_frame_rate ?? video.r_frame_rate ?? "0/0").split("/").map(
        Number,
      );
      const fps = num > 0 && den > 0 ? num / den : null;
      resolve({
        width: video.width!,
        height: video.height!,
        fps: fps && fps <= 240 ? fps : null,
        codec: video.codec_name ?? "unknown",
      });
    });
  });
}

/**
 * Has fluent-ffmpeg look up ffmpeg and its formats and encoders now. It does that before the
 * first command of a process (`which ffmpeg`, `ffmpeg -formats`, `ffmpeg -encoders`, one after
 * the other) and keeps the answers; a camera calls this when it is opened, so that the first
 * viewer does not wait for three extra ffmpeg runs before the capture starts (seconds on a
 * small board). Never rejects: a missing ffmpeg is reported by the capture itself.
 */
export async function warmUpFfmpeg(): Promise<void> {
  // Both at once: they are independent, and each is a whole ffmpeg start.
  await Promise.all([
    new Promise<void>((resolve) => ffmpeg.getAvailableFormats(() => resolve())),
    new Promise<void>((resolve) => ffmpeg.getAvailableEncoders(() => resolve())),
  ]);
}

/** True when ffmpeg can be run (checked once by the `auto` source and the tests). */
export function ffmpegAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    ffmpeg.getAvailableFormats((err: Error | null) => resolve(!err));
  });
}

/** The newest child of this process whose command name is `name`, from /proc; null elsewhere. */
function findChild(name: string): number | null {
  try {
    let newest: number | null = null;
    for (const task of Deno.readDirSync("/proc/self/task")) {
      const text = Deno.readTextFileSync(`/proc/self/task/${task.name}/children`).trim();
      for (const pid of text ? text.split(/\s+/).map(Number) : []) {
        const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
        if (comm === name && (newest === null || pid > newest)) newest = pid;
      }
    }
    return newest;
  } catch {
    return null;
  }
}
