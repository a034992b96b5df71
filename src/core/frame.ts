/**
 * The frame shapes that flow through tuchuan: what a source yields, and what the hub holds.
 *
 * @module
 */

/** Raw pixels from a source, for the imagescript path (overlay, encode). */
export interface RgbaFrame {
  readonly kind: "rgba";
  readonly width: number;
  readonly height: number;
  /** `width * height * 4` bytes, RGBA, row-major. */
  readonly data: Uint8Array;
  /** Capture time, milliseconds since the Unix epoch (fractional allowed). */
  readonly capturedAt: number;
}

/** A JPEG as a source produced it (camera MJPEG, ffmpeg's encoder, a folder, a recording). */
export interface JpegFrame {
  readonly kind: "jpeg";
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** Capture time, milliseconds since the Unix epoch (fractional allowed). */
  readonly capturedAt: number;
}

/** Anything a source yields. */
export type SourceFrame = RgbaFrame | JpegFrame;

/** An encoded frame as the hub holds it and every viewer receives it. */
export interface EncodedFrame {
  /** Increases by one for every frame published to the hub. */
  readonly seq: number;
  readonly jpeg: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Capture time, milliseconds since the Unix epoch. */
  readonly capturedAt: number;
  /** True for the generated "NO SIGNAL" frame (or `--offline-image`). */
  readonly offline?: boolean;
}

/** A frame size in pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}
