/**
 * The help texts of `tuchuan`, `tuchuan record` and `tuchuan devices`: every flag with its real
 * default and its variable, the sources, and how to get stretch or crop instead of fit.
 *
 * @module
 */
import { VERSION } from "../core/version.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { DEVICES_FLAGS, type FlagSpec, RECORD_FLAGS, SERVE_FLAGS } from "./flags.ts";

function envName(flag: string): string {
  return `TUCHUAN_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** The default of a flag as the help shows it. */
function defaultText(spec: FlagSpec): string {
  if (spec.name === "workers") return `${DEFAULT_CONFIG.workers} (CPU count)`;
  if (spec.name === "out") return "none";
  if (spec.name === "duration") return "10";
  if (spec.name === "frames") return "none";
  if (spec.name === "json") return "off";
  const path = spec.key.split(".");
  let value: unknown = DEFAULT_CONFIG;
  for (const p of path) value = (value as Record<string, unknown> | undefined)?.[p];
  if (spec.value.kind === "boolean") return value ? "on" : "off";
  if (spec.value.kind === "size" || spec.value.kind === "fps") {
    return value === null
      ? "native"
      : spec.value.kind === "size"
      ? `${(value as { width: number }).width}x${(value as { height: number }).height}`
      : String(value);
  }
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return "none";
  }
  return String(value);
}

/** One aligned line per flag; `extra` rows are flags without a value, default or variable. */
function flagLines(flags: readonly FlagSpec[], extra: [string, string][] = []): string[] {
  const rows: [string, string][] = flags.map((spec) => [
    `--${spec.name}${spec.placeholder ? ` ${spec.placeholder}` : ""}`,
    `${spec.description} (default: ${defaultText(spec)}, env: ${envName(spec.name)})`,
  ]);
  rows.push(...extra);
  const width = Math.max(...rows.map(([head]) => head.length)) + 2;
  return rows.map(([head, text]) => `  ${head.padEnd(width)}${text}`);
}

const SOURCE_LINES = [
  "Sources (--source, or --camera NAME=SOURCE):",
  "  auto                 /dev/video0 if present, else ffmpeg testsrc, else the bundled recording",
  "  testsrc              ffmpeg's test pattern (at --size, default 640x480, and --fps, default 30)",
  "  /dev/videoN          a V4L2 camera, also by its /dev/v4l/by-id/... name (see tuchuan devices)",
  "  FILE.mp4, FILE.mkv   a video file, looped in real time",
  "  DIR                  a folder of JPEGs, looped at --fps (default 30)",
  "  http(s)://...        an IP camera or another MJPEG stream",
  "  rtsp://...           an RTSP camera",
  "  FILE.mjpeg           a recording made by tuchuan record, replayed at its timing (or --fps)",
];

/** `tuchuan --version`. */
export function versionText(): string {
  return `tuchuan ${VERSION}`;
}

/** The `tuchuan record --help` text. */
export function recordUsage(): string {
  return [
    `tuchuan ${VERSION} — record a source into a .mjpeg fixture that --source can replay`,
    "",
    "Usage: tuchuan record --out FILE [--duration SECONDS | --frames N] [flags]",
    "",
    ...flagLines(RECORD_FLAGS, [["--help", "Show this help"]]),
    "",
    ...SOURCE_LINES,
    "",
  ].join("\n");
}

/** The `tuchuan devices --help` text. */
export function devicesUsage(): string {
  return [
    `tuchuan ${VERSION} — list the cameras: formats, sizes, frame rates and controls`,
    "",
    "Usage: tuchuan devices [--json]",
    "",
    ...flagLines(DEVICES_FLAGS, [["--help", "Show this help"]]),
    "",
    "Uses v4l2-ctl (Debian package v4l-utils). Use a /dev/v4l/by-id/... name as --source: it",
    "stays the same camera when another one is plugged in first.",
    "",
  ].join("\n");
}

/** The `--help` text. */
export function usage(): string {
  return [
    `tuchuan ${VERSION} — live MJPEG over HTTP from a camera, video file or URL`,
    "",
    "Usage: tuchuan [flags]",
    "       tuchuan --camera NAME=SOURCE [--camera NAME=SOURCE ...] [flags]",
    "       tuchuan record --out FILE [flags]",
    "       tuchuan devices",
    "",
    "Flags (each also from its TUCHUAN_* variable; the command line wins):",
    ...flagLines(SERVE_FLAGS, [["--help", "Show this help"], ["--version", "Show the version"]]),
    "",
    ...SOURCE_LINES,
    "",
    "Size: by default each source streams at its own size (a camera at its best mode up to",
    "1280x720). --size WxH serves within that box keeping the aspect ratio; add --size-mode stretch",
    "to fill the box exactly, or --size-mode crop to fill it and cut what sticks out.",
    "",
    "Several cameras: --camera nozzle=/dev/video0 --camera bed=/dev/video2 serves /nozzle/stream",
    "and /bed/stream; every camera flag above applies to all of them, and --camera-option",
    "NAME.FLAG=VALUE (e.g. bed.rotate=180, nozzle.control=focus_automatic_continuous=0) to one.",
    "",
    "Record (tuchuan record): save a source as a .mjpeg fixture, as received, with timestamps.",
    ...flagLines(RECORD_FLAGS),
    "",
    "Booleans take --flag or --flag=true|false; their variables take true, false, 1, 0, yes, no,",
    "on or off. Repeatable flags take several values in their variable, separated by spaces.",
    "",
  ].join("\n");
}
