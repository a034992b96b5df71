/**
 * Turns `--source` into a Source: `auto`, `testsrc`, a camera (`/dev/videoN`,
 * `/dev/v4l/by-id/…`), a video file, a folder of JPEGs, an `http(s)://` or `rtsp://` URL, or a
 * recording (replay). Resolving the kind comes first (the encode planner is made for it), then
 * opening, which learns what the input offers.
 *
 * `auto` (the default) picks `/dev/video0` if present, else ffmpeg's `testsrc` if ffmpeg runs,
 * else the bundled fixture, so `make run` always shows something alive.
 *
 * @module
 */
import { readHead } from "../core/read_bounded.ts";
import type { SourceKind } from "../plan/encode_plan.ts";
import { openFile } from "./file_source.ts";
import { openFolder } from "./folder_source.ts";
import { isRecording, openReplay } from "./replay_source.ts";
import type { Source, SourceContext } from "./source.ts";
import { openTestsrc } from "./testsrc_source.ts";
import { openUrl } from "./url_source.ts";
import { isCameraPath, openCamera } from "./v4l2/v4l2_source.ts";

/** The bundled fixture, played when there is neither a camera nor ffmpeg. */
export const BUNDLED_FIXTURE: URL = new URL("../../fixtures/testcard.mjpeg", import.meta.url);

/** A `--source` value resolved to its kind. */
export interface ResolvedSource {
  readonly kind: SourceKind;
  /** The input to open: a path, URL, `testsrc`, or the bundled fixture. */
  readonly input: string | URL;
  /** Why `auto` chose it ("" for an explicit source). */
  readonly why: string;
}

/** What resolution may ask the machine (tests replace it). */
export interface SourceProbe {
  exists(path: string): Promise<"file" | "dir" | "other" | null>;
  ffmpeg(): Promise<boolean>;
}

async function pathKind(path: string): Promise<"file" | "dir" | "other" | null> {
  try {
    const st = await Deno.stat(path);
    return st.isDirectory ? "dir" : st.isFile ? "file" : "other";
  } catch {
    return null;
  }
}

/** The machine as it is. */
export const systemProbe: SourceProbe = {
  exists: pathKind,
  ffmpeg: async () => (await import("./ffmpeg.ts")).ffmpegAvailable(),
};

/**
 * Resolves `--source` to its kind. Throws `TypeError` naming the value when it is neither a
 * known word, a device, a URL nor an existing path.
 */
export async function resolveSource(
  source: string,
  probe: SourceProbe = systemProbe,
): Promise<ResolvedSource> {
  if (source === "auto") {
    if (await probe.exists("/dev/video0")) {
      return { kind: "v4l2", input: "/dev/video0", why: "auto: /dev/video0 is present" };
    }
    if (await probe.ffmpeg()) {
      return { kind: "testsrc", input: "testsrc", why: "auto: no camera, ffmpeg's test pattern" };
    }
    return {
      kind: "replay",
      input: BUNDLED_FIXTURE,
      why: "auto: no camera and no ffmpeg, the bundled recording",
    };
  }
  if (source.startsWith("replay:")) {
    return { kind: "replay", input: source.slice("replay:".length), why: "" };
  }
  if (source === "testsrc") return { kind: "testsrc", input: source, why: "" };
  if (isCameraPath(source)) return { kind: "v4l2", input: source, why: "" };
  if (/^(https?|rtsps?):\/\//i.test(source)) return { kind: "url", input: source, why: "" };
  const what = await probe.exists(source);
  if (what === "dir") return { kind: "folder", input: source, why: "" };
  if (what === "file") {
    const head = await readHead(source, 256);
    return { kind: isRecording(head) ? "replay" : "file", input: source, why: "" };
  }
  throw new TypeError(
    `Invalid --source ${
      JSON.stringify(source)
    }: not auto, testsrc, a /dev/video device, a URL or an existing path`,
  );
}

/** Opens a resolved source: learns what it offers, and the planner decides the plan. */
export function openSource(
  resolved: ResolvedSource,
  ctx: SourceContext,
  options: { controls: readonly { name: string; value: string }[] },
): Promise<Source> | Source {
  const input = resolved.input;
  switch (resolved.kind) {
    case "testsrc":
      return openTestsrc(ctx);
    case "v4l2":
      return openCamera(String(input), ctx, options);
    case "url":
      return openUrl(String(input), ctx);
    case "folder":
      return openFolder(String(input), ctx);
    case "file":
      return openFile(String(input), ctx);
    case "replay":
      return openReplay(input, ctx);
  }
}
