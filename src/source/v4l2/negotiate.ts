/**
 * Choosing a camera mode: pixel format, size and frame rate, from what the camera offers and
 * what the user asked for (or nothing).
 *
 * - The camera's own MJPEG when it offers it at the mode wanted: no decode, no encode, and the
 *   least USB bandwidth. Otherwise the best raw format ffmpeg takes (YUYV first: every UVC
 *   webcam has it and it converts cheaply).
 * - Size: the one asked for, else the nearest the camera has (and a note says so). Without
 *   `--size`: the largest mode up to {@link DEFAULT_LIMIT} (1280x720) that still gives at least
 *   15 fps, a good picture for a small board to serve; a camera with nothing that small gets its
 *   smallest mode.
 * - Frame rate: the one asked for, else the nearest the camera has at that size (vivid: 30 ->
 *   25 at 640x480), noted; without `--fps` the highest it has at that size, up to 30.
 *
 * @module
 */
import type { Size } from "../../core/frame.ts";
import type { FrameSizes, V4l2Format } from "./v4l2_parse.ts";

/** ffmpeg's `-input_format` for the V4L2 formats tuchuan takes, best raw ones first. */
export const FFMPEG_FORMATS: Readonly<Record<string, string>> = Object.freeze({
  MJPG: "mjpeg",
  JPEG: "mjpeg",
  YUYV: "yuyv422",
  UYVY: "uyvy422",
  NV12: "nv12",
  YU12: "yuv420p",
  NV21: "nv21",
  "422P": "yuv422p",
  RGB3: "rgb24",
  BGR3: "bgr24",
  GREY: "gray",
});

const RAW_ORDER = ["YUYV", "UYVY", "NV12", "YU12", "NV21", "422P", "RGB3", "BGR3", "GREY"];

/** The default ceiling for a camera's size when `--size` is not given. */
export const DEFAULT_LIMIT: Size = Object.freeze({ width: 1280, height: 720 });
/** The lowest frame rate the default mode should have. */
const DEFAULT_MIN_FPS = 15;
/** The highest frame rate chosen without `--fps`. */
const DEFAULT_MAX_FPS = 30;

/** A mode to open the camera in. */
export interface CameraMode {
  /** The V4L2 four-character code. */
  readonly fourcc: string;
  /** ffmpeg's `-input_format` for it. */
  readonly ffmpegFormat: string;
  readonly jpeg: boolean;
  readonly size: Size;
  readonly fps: number;
}

/** The chosen mode, and what the user should know about it. */
export interface Negotiation {
  readonly mode: CameraMode;
  /** Why this mode, in words. */
  readonly why: string;
  /** Where the camera could not give what was asked, and what it gives instead. */
  readonly notes: readonly string[];
}

/** A mode the camera has: discrete sizes as listed, stepwise ones at the wanted size. */
interface Offered {
  format: V4l2Format;
  size: Size;
  fps: readonly number[];
}

function modesOf(format: V4l2Format, want: Size | null): Offered[] {
  const out: Offered[] = [];
  for (const s of format.sizes) {
    if (s.kind === "discrete") {
      out.push({ format, size: { width: s.width, height: s.height }, fps: s.fps });
    } else {
      out.push({ format, size: want ? clampStepwise(s, want) : defaultStepwise(s), fps: s.fps });
    }
  }
  return out;
}

type Stepwise = Extract<FrameSizes, { kind: "stepwise" }>;

/** The size on the sensor's grid nearest `want`, never outside its range. */
function clampStepwise(s: Stepwise, want: Size, round = Math.round): Size {
  const fit = (v: number, min: number, max: number, step: number) => {
    const c = Math.min(max, Math.max(min, v));
    // The last step may overshoot max when (max - min) is not a multiple of step.
    const steps = Math.min(round((c - min) / step), Math.floor((max - min) / step));
    return min + steps * step;
  };
  return {
    width: fit(want.width, s.minWidth, s.maxWidth, s.stepWidth),
    height: fit(want.height, s.minHeight, s.maxHeight, s.stepHeight),
  };
}

/**
 * Without `--size`: the sensor's full size scaled into {@link DEFAULT_LIMIT} with its aspect
 * kept (a 2592x1944 sensor gives 960x720, not a 16:9 crop of it), down to the sensor's step.
 */
function defaultStepwise(s: Stepwise): Size {
  const scale = Math.min(1, DEFAULT_LIMIT.width / s.maxWidth, DEFAULT_LIMIT.height / s.maxHeight);
  return clampStepwise(s, { width: s.maxWidth * scale, height: s.maxHeight * scale }, Math.floor);
}

const area = (s: Size) => s.width * s.height;
const same = (a: Size, b: Size) => a.width === b.width && a.height === b.height;
const text = (s: Size) => `${s.width}x${s.height}`;
const fpsText = (f: number) => `${+f.toFixed(3)}`;
/** Top rate of a mode; a driver that lists none takes whatever is asked (CSI cameras). */
const topFps = (m: Offered) => m.fps[0] ?? Infinity;

/** How far `b` is from `a`: area ratio, plus a penalty for another aspect ratio. */
function distance(a: Size, b: Size): number {
  const ratio = Math.abs(Math.log(area(b) / area(a)));
  const aspect = Math.abs(Math.log((b.width / b.height) / (a.width / a.height)));
  return ratio + 2 * aspect;
}

function nearestFps(offered: readonly number[], want: number): number {
  let best = offered[0];
  for (const f of offered) {
    if (Math.abs(f - want) < Math.abs(best - want) - 1e-9) best = f;
  }
  return best;
}

/**
 * Picks the mode for a camera offering `formats`, given the size and frame rate asked for (null
 * for "choose"). Returns null when it offers no format ffmpeg can take.
 */
export function negotiate(
  formats: readonly V4l2Format[],
  want: { size: Size | null; fps: number | null },
): Negotiation | null {
  const usable = formats.filter((f) => FFMPEG_FORMATS[f.fourcc] && f.sizes.length > 0);
  if (usable.length === 0) return null;
  const jpegFormats = usable.filter((f) => FFMPEG_FORMATS[f.fourcc] === "mjpeg");
  const rawFormats = RAW_ORDER.map((c) => usable.find((f) => f.fourcc === c)).filter(
    (f): f is V4l2Format => f !== undefined,
  );
  const all = [...jpegFormats, ...rawFormats];
  const modes = all.flatMap((f) => modesOf(f, want.size));
  const notes: string[] = [];

  // 1. The size.
  let size: Size;
  if (want.size) {
    const target = want.size;
    const exact = modes.find((m) => same(m.size, target));
    if (exact) size = exact.size;
    else {
      size = modes.reduce((a, b) => distance(target, b.size) < distance(target, a.size) ? b : a)
        .size;
      notes.push(`asked for ${text(target)}; the camera's nearest size is ${text(size)}`);
    }
  } else {
    const limit = area(DEFAULT_LIMIT);
    const fitting = modes.filter((m) => area(m.size) <= limit);
    // The size does not bend to --fps: a rate the camera lacks at the best size is met by its
    // nearest one, with a note, rather than by a smaller picture.
    const fluent = fitting.filter((m) => topFps(m) >= DEFAULT_MIN_FPS);
    const pool = fluent.length > 0 ? fluent : fitting;
    size = pool.length > 0
      ? pool.reduce((a, b) => area(b.size) > area(a.size) ? b : a).size
      : modes.reduce((a, b) => area(b.size) < area(a.size) ? b : a).size;
  }

  // 2. The format at that size: MJPEG when it offers the rate wanted (or as good a rate).
  const atSize = modes.filter((m) => same(m.size, size));
  const rateOf = (m: Offered) => {
    if (m.fps.length === 0) return want.fps ?? DEFAULT_MAX_FPS;
    if (want.fps) return nearestFps(m.fps, want.fps);
    return m.fps.find((f) => f <= DEFAULT_MAX_FPS) ?? m.fps.at(-1)!;
  };
  const jpeg = atSize.find((m) => jpegFormats.includes(m.format));
  const raw = atSize.find((m) => rawFormats.includes(m.format));
  let chosen = jpeg ?? raw!;
  if (jpeg && raw) {
    const j = rateOf(jpeg);
    const r = rateOf(raw);
    const goal = want.fps ?? DEFAULT_MAX_FPS;
    // Raw only when it comes closer to the rate wanted than the camera's MJPEG does.
    if (Math.abs(r - goal) < Math.abs(j - goal) - 1e-9) chosen = raw;
  }
  const fps = rateOf(chosen);
  if (want.fps && Math.abs(fps - want.fps) > 1e-6) {
    notes.push(
      `asked for ${fpsText(want.fps)} fps; the camera offers ${fpsText(fps)} fps at ${text(size)}`,
    );
  }
  const ffmpegFormat = FFMPEG_FORMATS[chosen.format.fourcc];
  const isJpeg = ffmpegFormat === "mjpeg";
  const why = isJpeg
    ? "the camera's own MJPEG"
    : `${chosen.format.fourcc}: the camera ${
      jpegFormats.length === 0
        ? "offers no MJPEG"
        : jpeg
        ? `gives ${fpsText(rateOf(chosen))} fps in it, ${fpsText(rateOf(jpeg))} in MJPEG`
        : "offers no MJPEG at this mode"
    }`;
  return {
    mode: { fourcc: chosen.format.fourcc, ffmpegFormat, jpeg: isJpeg, size, fps },
    why: want.size || want.fps
      ? `${why}, at the mode asked for`
      : `${why}, its best mode up to ${text(DEFAULT_LIMIT)}`,
    notes,
  };
}
