/**
 * The one place that decides how frames become the JPEGs viewers get: {@link planEncode} turns
 * what the user asked for and what the source offers into a typed {@link EncodePlan}, which the
 * source, `/state`, the banner and `/metrics` all read. Nothing else decides it again.
 *
 * - `passthrough`: the source's own JPEGs go out untouched (a camera's MJPEG through
 *   `ffmpeg -c:v copy`, or a folder, an HTTP MJPEG stream or a recording read by tuchuan itself).
 *   Orientation travels as an EXIF tag, or is done by the camera's own flip controls.
 * - `ffmpeg-encode`: ffmpeg decodes, scales, turns and encodes (raw cameras, video files, test
 *   patterns, `--size` or `--encoder ffmpeg`).
 * - `imagescript`: the pixels go through our workers, because an overlay is drawn on them (or
 *   `--encoder imagescript`); ffmpeg delivers them when it reads the input, else the workers
 *   decode the source's JPEGs.
 *
 * @module
 */
import type { Size } from "../core/frame.ts";
import {
  exifForSteps,
  type Orientation,
  type OrientationSteps,
  orientationSteps,
  stepsAreUpright,
} from "../core/orientation.ts";

/** The kinds of input tuchuan reads. */
export type SourceKind = "testsrc" | "v4l2" | "file" | "folder" | "url" | "replay";

/**
 * What an input offers, learned when it is opened: the facts the encode plan decides on.
 */
export interface SourceOffer {
  /** Frames arrive as JPEG already (camera MJPEG, a JPEG folder, MJPEG over HTTP, a recording). */
  readonly jpeg: boolean;
  /** tuchuan can read the input itself, with no child process (folder, HTTP MJPEG, recording). */
  readonly native: boolean;
  /** ffmpeg can read the input too (for scaling, re-encoding or pixels); false for recordings. */
  readonly ffmpegCanRead: boolean;
  /** The size frames come at, when known before the first frame. */
  readonly size: Size | null;
  /** The frame rate the input delivers, when known before the first frame. */
  readonly fps: number | null;
  /** The camera can mirror its picture itself (V4L2 `horizontal_flip`/`vertical_flip`). */
  readonly cameraFlip: boolean;
  /** What the input is, for people: "YUYV 640x480 at 25 fps", "MJPEG over HTTP". */
  readonly mode: string;
  /** Things the user should know (a mode the camera could not do, and what it does instead). */
  readonly notes: readonly string[];
}

/** The three ways to produce the served JPEGs. */
export type EncodePath = "passthrough" | "ffmpeg-encode" | "imagescript";

/** `--encoder`: `auto` takes the cheapest path that serves the request. */
export type EncoderChoice = "auto" | "imagescript" | "ffmpeg";

/** Accepted `--encoder` values. */
export const ENCODER_CHOICES: readonly EncoderChoice[] = ["auto", "imagescript", "ffmpeg"];

/** How `--size` treats a source of another aspect ratio. */
export type SizeMode = "fit" | "stretch" | "crop";

/** Accepted `--size-mode` values. */
export const SIZE_MODES: readonly SizeMode[] = ["fit", "stretch", "crop"];

/** What the user asked for, as far as encoding goes. */
export interface EncodeRequest {
  readonly encoder: EncoderChoice;
  /** An overlay is drawn on every frame. */
  readonly overlay: boolean;
  /** `--size`, or null for the source's own. */
  readonly size: Size | null;
  readonly sizeMode: SizeMode;
  readonly orientation: Orientation;
}

/** What ffmpeg writes to tuchuan, when it runs: JPEG packets copied, JPEGs it encodes, pixels. */
export type FfmpegOutput = "copy" | "mjpeg" | "rgba";

/** Who turns and mirrors the picture. */
export interface OrientationPlan {
  /** Camera flip controls to set (V4L2), or null. */
  readonly camera: { readonly hflip: boolean; readonly vflip: boolean } | null;
  /** Steps ffmpeg's filters apply, or null. */
  readonly ffmpeg: OrientationSteps | null;
  /** Steps the image workers apply, or null. */
  readonly workers: OrientationSteps | null;
  /** EXIF Orientation put into each passed-through JPEG; 1 for none. */
  readonly exif: number;
}

/** The decision, with its reason in words. */
export interface EncodePlan {
  readonly path: EncodePath;
  /** Why, for `/state`, the banner and the log. */
  readonly reason: string;
  /** What ffmpeg delivers, or null when tuchuan reads the input itself. */
  readonly ffmpeg: FfmpegOutput | null;
  /** The box ffmpeg scales into and how, or null for the source's own size. */
  readonly scale: { readonly box: Size; readonly mode: SizeMode } | null;
  readonly orientation: OrientationPlan;
}

const WHAT: Record<SourceKind, string> = {
  testsrc: "the test pattern",
  v4l2: "the camera",
  file: "the video file",
  folder: "the folder",
  url: "the URL",
  replay: "the recording",
};

/** The size `size` takes inside `box` in `mode` (fit keeps the aspect, rounded to even sides). */
export function scaledSize(size: Size, box: Size, mode: SizeMode): Size {
  if (mode !== "fit") return box;
  const k = Math.min(box.width / size.width, box.height / size.height);
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  return { width: even(size.width * k), height: even(size.height * k) };
}

function sameSize(a: Size, b: Size): boolean {
  return a.width === b.width && a.height === b.height;
}

/**
 * Decides the encode path for `request` on a source offering `offer`.
 *
 * @throws {TypeError} for a combination no path can serve, naming the flags (for example
 *   `--encoder ffmpeg` with `--overlay`, or `--size` with a recording).
 */
export function planEncode(
  kind: SourceKind,
  offer: SourceOffer,
  request: EncodeRequest,
): EncodePlan {
  const what = WHAT[kind];
  if (request.overlay && request.encoder === "ffmpeg") {
    throw new TypeError(
      "Invalid --encoder ffmpeg with --overlay: the overlay is drawn by imagescript (use --encoder auto)",
    );
  }
  const box = request.size;
  const resize = box !== null &&
    (offer.size === null || !sameSize(scaledSize(offer.size, box, request.sizeMode), offer.size));
  const scale = resize && box ? { box, mode: request.sizeMode } : null;
  if (scale && !offer.ffmpegCanRead) {
    throw new TypeError(
      `Invalid --size ${box!.width}x${box!.height} with ${what}: it plays at its own size${
        offer.size ? ` (${offer.size.width}x${offer.size.height})` : ""
      }; record it again at the size you want`,
    );
  }
  if (request.encoder === "ffmpeg" && !offer.ffmpegCanRead) {
    throw new TypeError(
      `Invalid --encoder ffmpeg with ${what}: ffmpeg cannot read it (use --encoder auto)`,
    );
  }

  // The camera mirrors (and, for half turns, turns) by itself when it can; the rest is the path's.
  // A camera with flip controls always gets them set, unflipped when nothing asks for a flip: it
  // keeps a flip until unplugged, so a run with --flip h would otherwise leave the next run's
  // picture mirrored.
  const steps = orientationSteps(request.orientation);
  let camera: OrientationPlan["camera"] = offer.cameraFlip ? { hflip: false, vflip: false } : null;
  let rest = steps;
  if (offer.cameraFlip && !stepsAreUpright(steps)) {
    if (steps.turn === 0 || steps.turn === 180) {
      camera = steps.turn === 0
        ? { hflip: steps.mirror, vflip: false }
        : { hflip: !steps.mirror, vflip: true };
      rest = { mirror: false, turn: 0 };
    } else {
      camera = { hflip: steps.mirror, vflip: false };
      rest = { mirror: false, turn: steps.turn };
    }
  }
  const turned = stepsAreUpright(rest) ? null : rest;
  const cameraNote = camera && (camera.hflip || camera.vflip)
    ? "; the camera mirrors the picture"
    : "";

  if (request.overlay || request.encoder === "imagescript") {
    const why = request.overlay ? "the overlay needs the pixels" : "--encoder imagescript";
    // Decoding a JPEG in the worker beats starting ffmpeg, unless ffmpeg must scale anyway.
    const decodeInWorkers = offer.native && offer.jpeg && !scale;
    return {
      path: "imagescript",
      reason: decodeInWorkers
        ? `${why}: the workers decode ${what}'s JPEGs${cameraNote}`
        : `${why}: ffmpeg delivers ${what}'s pixels${cameraNote}`,
      ffmpeg: decodeInWorkers ? null : "rgba",
      scale,
      orientation: {
        camera,
        ffmpeg: decodeInWorkers ? null : turned,
        workers: decodeInWorkers ? turned : null,
        exif: 1,
      },
    };
  }
  if (request.encoder === "ffmpeg" || scale || !offer.jpeg) {
    const why = request.encoder === "ffmpeg"
      ? "--encoder ffmpeg"
      : scale
      ? `--size ${box!.width}x${box!.height} needs scaling`
      : `${what} delivers ${offer.mode}, not JPEG`;
    return {
      path: "ffmpeg-encode",
      reason: `${why}: ffmpeg encodes JPEG${cameraNote}`,
      ffmpeg: "mjpeg",
      scale,
      orientation: { camera, ffmpeg: turned, workers: null, exif: 1 },
    };
  }
  const by = offer.native ? "tuchuan reads them itself" : "ffmpeg copies them (-c:v copy)";
  return {
    path: "passthrough",
    reason: `${what} delivers JPEG: ${by}${turned ? "; turned by an EXIF tag" : ""}${cameraNote}`,
    ffmpeg: offer.native ? null : "copy",
    scale: null,
    orientation: { camera, ffmpeg: null, workers: null, exif: turned ? exifForSteps(turned) : 1 },
  };
}
