/**
 * imagescript's part of the pipeline: orientation, overlay and JPEG encoding of one frame, and
 * PNG for snapshots. Runs inside the image workers, never on the main thread.
 *
 * @module
 */
import { Image } from "imagescript";
import type { SourceFrame } from "../core/frame.ts";
import type { OrientationSteps } from "../core/orientation.ts";
import { orientPixels } from "./orient_pixels.ts";
import { drawOverlay } from "./overlay.ts";

/** One frame to encode. */
export interface EncodeJob {
  frame: SourceFrame;
  /** JPEG quality 1..100. */
  quality: number;
  /** Overlay lines to draw (empty for none). */
  lines: string[];
  /** Mirror and turn the pixels first (omitted: as captured). */
  orient?: OrientationSteps;
}

/** An encoded JPEG and its size. */
export interface EncodeResult {
  jpeg: Uint8Array;
  width: number;
  height: number;
}

/** Decodes a JPEG into an imagescript Image. */
export async function decodeJpeg(jpeg: Uint8Array): Promise<Image> {
  const image = await Image.decode(jpeg);
  if (!(image instanceof Image)) throw new TypeError("Expected a still JPEG image");
  return image;
}

/** The last raw-frame canvas, reused while the size stays the same (one 8 MB image at 1080p). */
let canvas: Image | null = null;
let canvasBusy = false;

function oriented(image: Image, steps: OrientationSteps | undefined): Image {
  if (!steps || (!steps.mirror && steps.turn === 0)) return image;
  const p = orientPixels(
    { width: image.width, height: image.height, data: image.bitmap },
    steps,
  );
  const out = new Image(p.width, p.height);
  out.bitmap.set(p.data);
  return out;
}

/** Turns the frame as asked, draws the overlay on its pixels and encodes them as JPEG. */
export async function encodeFrame(job: EncodeJob): Promise<EncodeResult> {
  const { frame } = job;
  let image: Image;
  let reused = false;
  if (frame.kind === "rgba") {
    if (!canvasBusy && canvas?.width === frame.width && canvas.height === frame.height) {
      image = canvas;
    } else {
      image = new Image(frame.width, frame.height);
      if (!canvasBusy) canvas = image;
    }
    reused = image === canvas;
    if (reused) canvasBusy = true;
    image.bitmap.set(frame.data);
  } else {
    image = await decodeJpeg(frame.data);
  }
  try {
    image = oriented(image, job.orient);
    if (job.lines.length > 0) drawOverlay(image, job.lines);
    // imagescript types quality as a 1..100 literal union; config already validated the range.
    const jpeg = await image.encodeJPEG(job.quality as Parameters<Image["encodeJPEG"]>[0]);
    return { jpeg, width: image.width, height: image.height };
  } finally {
    if (reused) canvasBusy = false;
  }
}

/**
 * Re-encodes a JPEG as PNG (the seed's `/snapshot` format), turned as `orient` says: a PNG has
 * no EXIF orientation, so a passed-through frame's orientation is applied to its pixels here.
 */
export async function jpegToPng(jpeg: Uint8Array, orient?: OrientationSteps): Promise<Uint8Array> {
  const image = oriented(await decodeJpeg(jpeg), orient);
  // Level 1: a snapshot is wanted now; the size difference to level 9 is small for photos.
  return await image.encode(1);
}
