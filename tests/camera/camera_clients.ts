/**
 * Host-side clients of a tuchuan serving the VM's camera, as users run them: ffmpeg decoding
 * `/stream` to pixels, OpenCV's VideoCapture, a snapshot decoded with imagescript, headless
 * Chromium (playwright-core, Debian's /usr/bin/chromium). Each is bounded in time and killed on
 * the way out; each reports what its user would see: sizes, arrival times and pixel values.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { Image } from "imagescript";
import { launchPlaywrightChromium } from "../browser_drivers.ts";
import { type Part, StreamWatcher } from "../stream_helpers.ts";

/** Longest one client run may take. */
const CLIENT_TIMEOUT_MS = 30_000;

/** One decoded frame: 8-bit pixels (1 or 3 per position), and when it arrived on the host. */
export interface DecodedFrame {
  readonly at: number;
  readonly pixels: Uint8Array;
}

/** What an ffmpeg client decoded. */
export interface FfmpegRead {
  readonly width: number;
  readonly height: number;
  readonly frames: DecodedFrame[];
  readonly stderr: string;
}

/**
 * Decodes `count` frames of the MJPEG stream at `url` with ffmpeg, as gray or RGB pixels of
 * `size` (ffmpeg says the size it decodes; a different one fails the read). Frames carry their
 * arrival time on the host.
 */
export async function ffmpegRead(
  url: string,
  count: number,
  size: { width: number; height: number },
  pixels: "gray" | "rgb24" = "gray",
): Promise<FfmpegRead> {
  const depth = pixels === "gray" ? 1 : 3;
  const frameBytes = size.width * size.height * depth;
  const child = new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-nostdin",
      "-i",
      url,
      "-frames:v",
      String(count),
      "-f",
      "rawvideo",
      "-pix_fmt",
      pixels,
      "pipe:1",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => kill(child), CLIENT_TIMEOUT_MS);
  const frames: DecodedFrame[] = [];
  let stderr = "";
  const readErr = (async () => {
    for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + t).slice(-20_000);
    }
  })();
  try {
    let buffer = new Uint8Array(frameBytes);
    let filled = 0;
    for await (const chunk of child.stdout) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(frameBytes - filled, chunk.byteLength - offset);
        buffer.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          frames.push({ at: performance.now(), pixels: buffer });
          buffer = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    await readErr;
    const status = await child.status;
    const decoded = /Stream #0:0.*Video: mjpeg.*?(\d{2,5})x(\d{2,5})/.exec(stderr);
    assert.equal(status.code, 0, `ffmpeg could not read ${url}:\n${stderr.slice(-2000)}`);
    assert.ok(decoded, `ffmpeg did not say what it decoded:\n${stderr.slice(-2000)}`);
    assert.equal(
      `${decoded[1]}x${decoded[2]}`,
      `${size.width}x${size.height}`,
      "the size ffmpeg decodes",
    );
    assert.equal(frames.length, count, `ffmpeg decoded ${frames.length} of ${count} frames`);
    return { width: size.width, height: size.height, frames, stderr };
  } finally {
    clearTimeout(timer);
    kill(child);
  }
}

function kill(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // Exited already.
  }
}

/**
 * Frames per second from arrival times, leaving out the first `skip` frames: a client gets the
 * newest frame at once on connecting, and the first few come in a bunch while its decoder and
 * the guest's network settle; then they come at the camera's pace.
 */
export function arrivalRate(times: readonly number[], skip = 10): number {
  const t = times.slice(skip);
  assert.ok(t.length >= 2, "too few frames to measure a rate");
  return (t.length - 1) / ((t.at(-1)! - t[0]) / 1000);
}

/** Mean of the 8-bit values in a gray frame. */
export function meanLuma(pixels: Uint8Array): number {
  let sum = 0;
  for (const v of pixels) sum += v;
  return sum / pixels.length;
}

/** What OpenCV's VideoCapture read: frame shapes and arrival times (`performance.now()`). */
export interface OpenCvRead {
  readonly shapes: number[][];
  readonly times: number[];
}

/** Reads `count` frames of `url` with OpenCV (python3-cv2), as a Python user would. */
export async function openCvRead(url: string, count: number): Promise<OpenCvRead> {
  const script = [
    "import cv2, json, sys, time",
    "cap = cv2.VideoCapture(sys.argv[1])",
    "shapes, times = [], []",
    "for _ in range(int(sys.argv[2])):",
    "    ok, frame = cap.read()",
    "    if not ok: break",
    "    times.append(time.time())",
    "    shapes.append(list(frame.shape))",
    "cap.release()",
    "print(json.dumps({'shapes': shapes, 'times': times}))",
  ].join("\n");
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, url, String(count)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => kill(child), CLIENT_TIMEOUT_MS);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `python3/cv2 failed:\n${err.slice(-2000)}`);
    const read = JSON.parse(text) as { shapes: number[][]; times: number[] };
    // Python gives wall-clock seconds; this process's performance.now() counts from timeOrigin.
    return {
      shapes: read.shapes,
      times: read.times.map((s) => s * 1000 - performance.timeOrigin),
    };
  } finally {
    clearTimeout(timer);
    kill(child);
  }
}

/** A snapshot (`/snapshot` is PNG, `/snapshot.jpg` JPEG) decoded to RGBA pixels. */
export async function snapshot(url: string): Promise<Image> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(
    res.status,
    200,
    `${url} answered ${res.status}: ${new TextDecoder().decode(bytes)}`,
  );
  assert.match(res.headers.get("content-type") ?? "", /^image\/(jpeg|png)/);
  return await Image.decode(bytes) as Image;
}

/** Mean luma (BT.601) of an image's pixels. */
export function imageLuma(image: Image): number {
  const px = image.bitmap;
  let sum = 0;
  for (let i = 0; i < px.length; i += 4) {
    sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
  }
  return sum / (px.length / 4);
}

/** The RGB of an imagescript image at (x, y), 0-based. */
export function rgbAt(image: Image, x: number, y: number): [number, number, number] {
  const [r, g, b] = Image.colorToRGBA(image.getPixelAt(x + 1, y + 1));
  return [r, g, b];
}

/** Runs `body` with a headless Chromium, closing it whatever happens. */
export async function withChromium(body: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await launchPlaywrightChromium();
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

/** What a viewer of the stream is shown: the camera's picture, or the NO SIGNAL card. */
export type Picture = "live" | "card";

/** One part a {@link PictureWatcher} received. */
export interface SeenPart {
  /** When it arrived (performance.now()). */
  readonly at: number;
  readonly kind: Picture;
  /** Its JPEG, kept for the first part of each run of the same kind (empty otherwise). */
  readonly body: Uint8Array;
}

/**
 * A viewer on `/stream` that tells the camera's frames from the NO SIGNAL card, part by part,
 * with each part's arrival time. On the ffmpeg-encode path every camera frame comes from
 * ffmpeg's encoder, which marks its JPEGs with a `Lavc` comment segment; the card is drawn and
 * encoded by tuchuan's image workers (a JFIF header, no comment). Decoding every frame to look
 * at it would take 70 ms a frame here: {@link looksLikeCard} checks chosen ones by their pixels.
 */
export class PictureWatcher {
  /** Every part so far. */
  readonly parts: SeenPart[];
  readonly #watcher: StreamWatcher;

  private constructor(watcher: StreamWatcher, parts: SeenPart[]) {
    this.#watcher = watcher;
    this.parts = parts;
  }

  /** Connects to `url` (a /stream URL). */
  static async open(url: string): Promise<PictureWatcher> {
    const parts: SeenPart[] = [];
    const watcher = await StreamWatcher.open(url, {
      keep: 2,
      onPart: (p: Part) => {
        const kind = pictureOf(p.body);
        const first = parts.at(-1)?.kind !== kind;
        parts.push({ at: p.at, kind, body: first ? p.body : new Uint8Array() });
      },
    });
    return new PictureWatcher(watcher, parts);
  }

  /** True while the connection is open. */
  get connected(): boolean {
    return !this.#watcher.ended;
  }

  /** The first part showing `kind` that arrived after `after`, waiting up to `timeoutMs`. */
  async waitFor(kind: Picture, after: number, what: string, timeoutMs: number): Promise<SeenPart> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.parts.find((p) => p.kind === kind && p.at > after);
      if (found) return found;
      assert.ok(this.connected, `the stream ended while waiting for ${what}`);
      assert.ok(performance.now() < deadline, `no ${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The last part showing `kind` that arrived before `before`. */
  lastBefore(kind: Picture, before: number): SeenPart | undefined {
    return this.parts.findLast((p) => p.kind === kind && p.at < before);
  }

  /** Disconnects. */
  close(): Promise<void> {
    return this.#watcher.close();
  }
}

/** Which picture a JPEG part is, from its encoder's mark (see {@link PictureWatcher}). */
export function pictureOf(jpeg: Uint8Array): Picture {
  const comment = jpeg[2] === 0xff && jpeg[3] === 0xfe &&
    new TextDecoder().decode(jpeg.subarray(6, 10)) === "Lavc";
  return comment ? "live" : "card";
}

/** True for the NO SIGNAL card: dark grey (0x202020) outside its text; vivid's bars are not. */
export async function looksLikeCard(jpeg: Uint8Array): Promise<boolean> {
  const image = await Image.decode(jpeg) as Image;
  const corner = rgbAt(image, 4, image.height - 5);
  return corner.every((v) => Math.abs(v - 0x20) < 12);
}
