/**
 * Asking a V4L2 camera what it offers and setting its controls, through `v4l2-ctl` from Debian's
 * v4l-utils: a small, well-known tool on every camera board, so no ioctl code of our own. Each
 * call is bounded in time and output (core/run_command.ts).
 *
 * @module
 */
import { runCommand } from "../../core/run_command.ts";
import { SourceError } from "../source.ts";
import {
  parseControls,
  parseFormats,
  parseInfo,
  type V4l2Control,
  type V4l2Format,
  type V4l2Info,
} from "./v4l2_parse.ts";

/** The program, overridable for tests and unusual installs. */
export function v4l2CtlPath(): string {
  return Deno.env.get("V4L2_CTL_PATH") ?? "v4l2-ctl";
}

/**
 * How long one run of v4l2-ctl may take. Listing everything a camera offers is one ioctl per
 * format, size and frame rate (about 5,000 for vivid's 83 formats): a few tens of milliseconds
 * on a board, but seconds on a busy one, and a hung driver must still not hang tuchuan.
 */
const V4L2_CTL_TIMEOUT_MS = 10_000;

async function v4l2Ctl(device: string, args: string[]): Promise<string> {
  let result;
  try {
    result = await runCommand(v4l2CtlPath(), ["-d", device, ...args], {
      timeoutMs: V4L2_CTL_TIMEOUT_MS,
    });
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new SourceError(
        "v4l2-ctl is not installed (apt-get install v4l-utils): it tells tuchuan what the camera offers",
        { cause },
      );
    }
    throw cause;
  }
  if (result.timedOut) {
    throw new SourceError(
      `v4l2-ctl -d ${device} did not answer within ${V4L2_CTL_TIMEOUT_MS / 1000} s`,
    );
  }
  if (result.code !== 0) {
    const why = (result.stderr.trim() || result.stdout.trim()).split("\n").at(-1) ?? "";
    // v4l2-ctl says only "Cannot open device /dev/video0, exiting." for a node that went away
    // (unplugged between two looks): say what that means.
    const gone = !deviceExists(device) ? "No such device" : why;
    throw new SourceError(`Camera ${device}: ${describeDeviceError(gone)}`);
  }
  return result.stdout;
}

/** True when the device node (or any path) is there now: an unplugged camera's node is gone. */
export function deviceExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The reason a camera cannot be used, in words a user understands, from an error line of
 * v4l2-ctl or ffmpeg: "busy" (another program has it) and "not connected" (no such device) are
 * told apart.
 */
export function describeDeviceError(line: string): string {
  if (/busy/i.test(line)) return `busy: another program is using it (${line})`;
  if (/No such file|No such device|ENOENT|ENODEV/i.test(line)) {
    return `not connected (${line})`;
  }
  if (/Permission denied|EACCES/i.test(line)) return `not allowed to open it (${line})`;
  return line;
}

/** What a camera offers. */
export interface DeviceCaps {
  readonly info: V4l2Info;
  readonly formats: readonly V4l2Format[];
  readonly controls: readonly V4l2Control[];
}

/**
 * Asks `device` who it is, its formats and its controls, in one run of v4l2-ctl: this runs at
 * every open, replugs included, and each start of the program costs time on a small board
 * (0.3 s in the test VM). Throws `SourceError` naming the device.
 */
export async function queryDevice(device: string): Promise<DeviceCaps> {
  const text = await v4l2Ctl(device, ["--info", "--list-ctrls-menus", "--list-formats-ext"]);
  return splitQuery(text);
}

/**
 * The three parts of `v4l2-ctl --info --list-ctrls-menus --list-formats-ext`, which v4l2-ctl
 * prints in its own fixed order whatever the order of the options: the device's identity, its
 * controls under their class headings ("User Controls", ...), then its formats from
 * "ioctl: VIDIOC_ENUM_FMT" on.
 */
export function splitQuery(text: string): DeviceCaps {
  const formatsAt = text.search(/^ioctl: VIDIOC_ENUM_FMT/m);
  const head = formatsAt === -1 ? text : text.slice(0, formatsAt);
  const formats = formatsAt === -1 ? "" : text.slice(formatsAt);
  // Controls start at the first class heading; a device without controls has none.
  const controlsAt = head.search(/^[A-Z][\w ]* Controls\s*$/m);
  return {
    info: parseInfo(head),
    formats: parseFormats(formats),
    controls: controlsAt === -1 ? [] : parseControls(head.slice(controlsAt)),
  };
}

/** The controls with their current values. */
export async function readControls(device: string): Promise<V4l2Control[]> {
  return parseControls(await v4l2Ctl(device, ["--list-ctrls-menus"]));
}

/** The outcome of setting one control. */
export interface ControlWrite {
  readonly name: string;
  readonly asked: number;
  /** The value the camera has now (read back), or null when it could not be read. */
  readonly value: number | null;
  /** The camera's own reason for refusing, or null when it took the value. */
  readonly error: string | null;
}

/**
 * Sets controls one at a time in the order given (automatic modes first is the caller's job),
 * then reads each back: a camera may clamp a value, or refuse it with its own reason.
 */
export async function writeControls(
  device: string,
  values: readonly { name: string; value: number }[],
): Promise<ControlWrite[]> {
  const out: ControlWrite[] = [];
  for (const { name, value } of values) {
    let error: string | null = null;
    const r = await runCommand(v4l2CtlPath(), ["-d", device, "-c", `${name}=${value}`], {
      timeoutMs: V4L2_CTL_TIMEOUT_MS,
    });
    if (r.code !== 0 || /fail|error|unknown/i.test(r.stderr)) {
      error = (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split("\n").at(-1)!;
    }
    out.push({ name, asked: value, value: null, error });
  }
  if (out.length === 0) return out;
  const now = new Map((await readControls(device)).map((c) => [c.name, c.value ?? null]));
  return out.map((w) => ({ ...w, value: now.get(w.name) ?? null }));
}
