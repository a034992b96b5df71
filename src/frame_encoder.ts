/**
 * imagescript's part of the pipeline: overlay and JPEG encoding of one frame, and PNG for
 * snapshots. Runs inside the encode workers (and in-thread for snapshots).
 *
 * @module
 */
import { Image } from "imagescript";
import type { SourceFrame } from "./frame.ts";
import { drawOverlay } from "./overlay.ts";

/** One frame to encode. */
export interface EncodeJob {
  frame: SourceFrame;
  /** JPEG quality 1..100. */
  quality: number;
  /** Overlay lines to draw (empty for none). */
  lines: string[];
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

/** Draws the overlay on the frame's pixels and encodes them as JPEG. */
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
    if (job.lines.length > 0) drawOverlay(image, job.lines);
    // imagescript types quality as a 1..100 literal union; config already validated the range.
    const jpeg = await image.encodeJPEG(job.quality as Parameters<Image["encodeJPEG"]>[0]);
    return { jpeg, width: image.width, height: image.height };
  } finally {
    if (reused) canvasBusy = false;
  }
}

/** Re-encodes a JPEG as PNG (the seed's `/snapshot` format). */
export async function jpegToPng(jpeg: Uint8Array): Promise<Uint8Array> {
  const image = await decodeJpeg(jpeg);
  // Level 1: a snapshot is wanted now; the size difference to level 9 is small for photos.
  return await image.encode(1);
}
