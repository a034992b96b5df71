/**
 * Stand-ins for a USB camera (there is no `/dev/video*` here): short video files in the formats
 * cameras deliver, made once per run with ffmpeg in a temporary folder and served with
 * `--source FILE --encoder auto`. tuchuan loops a file in real time (`-re -stream_loop -1`), so
 * ffmpeg reads 30 frames a second of raw YUYV (decoded, converted and JPEG-encoded:
 * `ffmpeg-encode`) or of MJPEG (copied untouched: `passthrough`), as it would from the camera.
 *
 * {@link tuchuanFfmpegArgv} builds the ffmpeg command tuchuan runs for a stand-in with tuchuan's
 * own builder (`src/plan/encode_plan.ts`, `src/source/ffmpeg_job.ts`, `src/source/ffmpeg_args.ts`),
 * the same calls `src/source/file_source.ts` makes, so the benchmark can run that ffmpeg alone.
 *
 * @module
 */
import { DEFAULT_CONFIG } from "../src/config/config.ts";
import type { Size } from "../src/core/frame.ts";
import {
  type EncodePath,
  type EncodePlan,
  planEncode,
  type SourceOffer,
} from "../src/plan/encode_plan.ts";
import { ffmpegArgs, ffmpegArgv } from "../src/source/ffmpeg_args.ts";
import { ffmpegJob } from "../src/source/ffmpeg_job.ts";
import { readProcTextOrNull } from "../src/core/proc_read.ts";

/** The stand-ins, by short name. */
export type StandInName = "yuyv640" | "yuyv720" | "mjpeg640";

/** One camera stand-in file. */
export interface StandIn {
  readonly name: StandInName;
  /** What it stands in for, for people. */
  readonly what: string;
  readonly size: Size;
  readonly fps: number;
  /** ffprobe's codec name of the file's video stream. */
  readonly codec: "rawvideo" | "mjpeg";
  /** The encode path tuchuan should choose for it with `--encoder auto`. */
  readonly expectedPath: EncodePath;
  /** ffmpeg arguments (after `-f lavfi -i testsrc2=...`) that make the file. */
  readonly encode: readonly string[];
  /** File name inside the temporary folder. */
  readonly file: string;
}

/**
 * Seconds of video in each file. tuchuan loops it, so a short file costs nothing in realism and
 * keeps the 720p YUYV one at ~220 MB (raw video is 1.8 MB a frame).
 */
const SECONDS = 4;

/** Every stand-in, in table order. */
export const STAND_INS: readonly StandIn[] = [
  {
    name: "yuyv640",
    what: "raw YUYV 640x480 @ 30",
    size: { width: 640, height: 480 },
    fps: 30,
    codec: "rawvideo",
    expectedPath: "ffmpeg-encode",
    encode: ["-pix_fmt", "yuyv422", "-c:v", "rawvideo"],
    file: "yuyv_640x480.nut",
  },
  {
    name: "yuyv720",
    what: "raw YUYV 1280x720 @ 30",
    size: { width: 1280, height: 720 },
    fps: 30,
    codec: "rawvideo",
    expectedPath: "ffmpeg-encode",
    encode: ["-pix_fmt", "yuyv422", "-c:v", "rawvideo"],
    file: "yuyv_1280x720.nut",
  },
  {
    name: "mjpeg640",
    what: "MJPEG 640x480 @ 30",
    size: { width: 640, height: 480 },
    fps: 30,
    codec: "mjpeg",
    expectedPath: "passthrough",
    // 4:2:2 like a UVC camera's MJPEG.
    encode: ["-pix_fmt", "yuvj422p", "-c:v", "mjpeg", "-q:v", "5"],
    file: "mjpeg_640x480.mkv",
  },
];

/** A made stand-in: its spec and where the file is. */
export interface MadeStandIn extends StandIn {
  readonly path: string;
}

let made: Promise<Map<StandInName, MadeStandIn>> | undefined;
let folder: string | undefined;

async function makeAll(): Promise<Map<StandInName, MadeStandIn>> {
  folder = await Deno.makeTempDir({ prefix: "tuchuan-bench-camera-" });
  const out = new Map<StandInName, MadeStandIn>();
  for (const s of STAND_INS) {
    const path = `${folder}/${s.file}`;
    const args = [
      ...["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
      ...["-i", `testsrc2=size=${s.size.width}x${s.size.height}:rate=${s.fps}`],
      ...["-t", String(SECONDS), ...s.encode, path],
    ];
    const res = await new Deno.Command("ffmpeg", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!res.success) {
      const why = new TextDecoder().decode(res.stderr.subarray(0, 2000)).trim();
      throw new Error(`ffmpeg could not make the ${s.what} stand-in: ${why}`);
    }
    out.set(s.name, { ...s, path });
  }
  return out;
}

/**
 * The stand-in files, made on first use (about 2 s) and kept for the rest of the run; remove
 * them with {@link removeStandIns}.
 */
export function standIns(): Promise<Map<StandInName, MadeStandIn>> {
  made ??= makeAll();
  return made;
}

/** One made stand-in by name. */
export async function standIn(name: StandInName): Promise<MadeStandIn> {
  const s = (await standIns()).get(name);
  if (!s) throw new Error(`no stand-in named ${name}`);
  return s;
}

/** Deletes the temporary folder of the stand-ins, if one was made. */
export async function removeStandIns(): Promise<void> {
  const dir = folder;
  made = undefined;
  folder = undefined;
  if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** The encode plan tuchuan decides for a stand-in with its defaults (`--encoder auto`). */
export function standInPlan(s: StandIn): EncodePlan {
  // The offer file_source.ts makes from ffprobe's answer for such a file.
  const offer: SourceOffer = {
    jpeg: s.codec === "mjpeg",
    native: false,
    ffmpegCanRead: true,
    size: s.size,
    fps: s.fps,
    cameraFlip: false,
    mode: `${s.codec} ${s.size.width}x${s.size.height} at ${s.fps} fps`,
    notes: [],
  };
  return planEncode("file", offer, {
    encoder: DEFAULT_CONFIG.encoder,
    overlay: DEFAULT_CONFIG.overlay !== null,
    size: DEFAULT_CONFIG.size,
    sizeMode: DEFAULT_CONFIG.sizeMode,
    orientation: { rotate: DEFAULT_CONFIG.rotate, flip: DEFAULT_CONFIG.flip },
  });
}

/**
 * The ffmpeg argv (without `ffmpeg` itself) tuchuan runs for `s` at its default quality and
 * rate, built by tuchuan's own code, in the order fluent-ffmpeg passes it.
 */
export function tuchuanFfmpegArgv(s: MadeStandIn): string[] {
  const job = ffmpegJob(
    { kind: "file", path: s.path },
    standInPlan(s),
    DEFAULT_CONFIG.quality,
    DEFAULT_CONFIG.fps,
  );
  return ffmpegArgv(ffmpegArgs(job));
}

/** A process's argv from `/proc/PID/cmdline` (bounded), or null once it has gone. */
export function readCmdline(pid: number): string[] | null {
  const text = readProcTextOrNull(`/proc/${pid}/cmdline`, 64 * 1024);
  if (text === null || text === "") return null;
  return text.replace(/\0$/, "").split("\0");
}
