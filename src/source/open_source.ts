/**
 * Turns `--source` into a Source: `auto`, `testsrc`, `/dev/videoN`, a video file, a folder of
 * JPEGs, an `http(s)://` or `rtsp://` URL, or a recorded multipart fixture (replay).
 *
 * `auto` (the default) picks `/dev/video0` if present, else ffmpeg's `testsrc` if ffmpeg runs,
 * else the bundled fixture, so `make run` always shows something alive.
 *
 * @module
 */
import type { Clock } from "../frame.ts";
import { type CaptureHooks, ffmpegAvailable, ffmpegFrames, type FfmpegSpec } from "./ffmpeg.ts";
import { isRecording, loadRecording, replayFrames } from "./replay.ts";
import type { Source, SourceKind } from "./source.ts";

/** The bundled fixture, played when there is neither a camera nor ffmpeg. */
export const BUNDLED_FIXTURE: URL = new URL("../../fixtures/testcard.mjpeg", import.meta.url);

/** What `openSource` needs to know. */
export interface OpenSourceOptions {
  source: string;
  width: number;
  height: number;
  fps: number;
  quality: number;
  /** True when an overlay (or `--encoder imagescript`) needs raw pixels. */
  needsPixels: boolean;
  clock: Clock;
  hooks?: CaptureHooks;
  /** Overrides for tests: whether a path exists, whether ffmpeg runs. */
  probe?: {
    exists?: (path: string) => Promise<"file" | "dir" | null>;
    ffmpeg?: () => Promise<boolean>;
  };
}

async function pathKind(path: string): Promise<"file" | "dir" | null> {
  try {
    const st = await Deno.stat(path);
    return st.isDirectory ? "dir" : "file";
  } catch {
    return null;
  }
}

async function readHead(path: string | URL, n: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    const got = await file.read(buf);
    return buf.subarray(0, got ?? 0);
  } finally {
    file.close();
  }
}

/**
 * Asks an HTTP source for its Content-Type: MJPEG over HTTP (another tuchuan, an IP camera)
 * can then be passed through untouched.
 */
async function httpIsMjpeg(url: string): Promise<boolean> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 3000);
  try {
    // fetch() refuses URLs with credentials; a camera at http://user:pass@cam/ gets them as
    // a basic-auth header instead, as ffmpeg sends them.
    const target = new URL(url);
    const headers = new Headers();
    if (target.username || target.password) {
      const user = decodeURIComponent(target.username);
      const pass = decodeURIComponent(target.password);
      headers.set("Authorization", `Basic ${btoa(`${user}:${pass}`)}`);
      target.username = "";
      target.password = "";
    }
    const res = await fetch(target, { signal: ac.signal, headers });
    const type = res.headers.get("content-type") ?? "";
    await res.body?.cancel();
    return /multipart\/x-mixed-replace|image\/jpeg/i.test(type);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/**
 * Resolves `--source` to a Source. Throws `TypeError` naming the value when it is neither a
 * known word, a device, a URL nor an existing path.
 */
export async function openSource(options: OpenSourceOptions): Promise<Source> {
  const exists = options.probe?.exists ?? pathKind;
  const hasFfmpeg = options.probe?.ffmpeg ?? ffmpegAvailable;
  let input = options.source;
  let why = "";
  if (input === "auto") {
    if (await exists("/dev/video0")) {
      input = "/dev/video0";
      why = "auto: /dev/video0 is present";
    } else if (await hasFfmpeg()) {
      input = "testsrc";
      why = "auto: no camera, ffmpeg test pattern";
    } else {
      return replaySource(
        BUNDLED_FIXTURE,
        "auto: no camera and no ffmpeg, bundled fixture",
        options,
      );
    }
  }
  if (input.startsWith("replay:")) {
    return replaySource(input.slice("replay:".length), "replay of a recording", options);
  }
  let kind: Exclude<SourceKind, "replay">;
  if (input === "testsrc") kind = "testsrc";
  else if (input.startsWith("/dev/video")) kind = "v4l2";
  else if (/^(https?|rtsps?):\/\//i.test(input)) kind = "url";
  else {
    const what = await exists(input);
    if (what === "dir") kind = "folder";
    else if (what === "file") {
      if (isRecording(await readHead(input, 256))) {
        return replaySource(input, "replay of a recording", options);
      }
      kind = "file";
    } else {
      throw new TypeError(
        `Invalid --source "${input}": not auto, testsrc, a /dev/video device, a URL or an existing path`,
      );
    }
  }
  return ffmpegSource(kind, input, why, options);
}

function ffmpegSource(
  kind: Exclude<SourceKind, "replay">,
  input: string,
  why: string,
  options: OpenSourceOptions,
): Source {
  let pid: number | null = null;
  let output: FfmpegSpec["output"] = options.needsPixels ? "rgba" : "encode";
  let reason = options.needsPixels
    ? "imagescript: the overlay needs the pixels"
    : "ffmpeg encoder: no overlay needs the pixels";
  const mjpegInput = kind === "folder" || kind === "v4l2" ||
    (kind === "file" && /\.(mjpe?g|jpe?g)$/i.test(input));
  if (!options.needsPixels && mjpegInput) {
    output = "copy";
    reason = "passthrough: the source is MJPEG (-c:v copy, --size not applied)";
  }
  if (why) reason = `${why}; ${reason}`;
  const source: Source = {
    kind,
    input,
    get output() {
      return output === "rgba" ? "rgba" : "jpeg";
    },
    get reason() {
      return reason;
    },
    get pid() {
      return pid;
    },
    async *frames(signal: AbortSignal) {
      if (kind === "url" && !options.needsPixels && /^https?:/i.test(input)) {
        const mjpeg = await httpIsMjpeg(input);
        output = mjpeg ? "copy" : "encode";
        reason = mjpeg
          ? "passthrough: the URL serves MJPEG (-c:v copy, --size not applied)"
          : "ffmpeg encoder: no overlay needs the pixels";
      }
      const spec: FfmpegSpec = {
        kind,
        input,
        width: options.width,
        height: options.height,
        fps: options.fps,
        output,
        quality: options.quality,
      };
      try {
        yield* ffmpegFrames(spec, signal, options.clock, {
          ...options.hooks,
          onSpawn: (p, line) => {
            pid = p;
            options.hooks?.onSpawn?.(p, line);
          },
        });
      } finally {
        pid = null;
      }
    },
  };
  return source;
}

function replaySource(path: string | URL, why: string, options: OpenSourceOptions): Source {
  const name = String(path instanceof URL ? path.pathname.split("/").pop() : path);
  let frames: Awaited<ReturnType<typeof loadRecording>> | null = null;
  return {
    kind: "replay",
    input: name,
    output: "jpeg",
    reason: `${why}; recorded JPEGs${
      options.needsPixels ? " decoded for the overlay" : " passed through"
    }`,
    pid: null,
    async *frames(signal: AbortSignal) {
      frames ??= await loadRecording(await Deno.readFile(path), name);
      yield* replayFrames(frames, signal, options.clock, { onCorrupt: options.hooks?.onCorrupt });
    },
  };
}
