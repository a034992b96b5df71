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

async function v4l2Ctl(device: string, args: string[]): Promise<string> {
  let result;
  try {
    result = await runCommand(v4l2CtlPath(), ["-d", device, ...args], { timeoutMs: 5000 });
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new SourceError(
        "v4l2-ctl is not installed (apt-get install v4l-utils): it tells tuchuan what the camera offers",
        { cause },
      );
    }
    throw cause;
  }
  if (result.timedOut) throw new SourceError(`v4l2-ctl -d ${device} did not answer within 5 s`);
  if (result.code !== 0) {
    const why = (result.stderr.trim() || result.stdout.trim()).split("\n").at(-1) ?? "";
    throw new SourceError(`Camera ${device}: ${describeDeviceError(why)}`);
  }
  return result.stdout;
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

/** Asks `device` who it is, its formats and its controls. Throws `SourceError` naming it. */
export async function queryDevice(device: string): Promise<DeviceCaps> {
  const info = parseInfo(await v4l2Ctl(device, ["--info"]));
  const formats = parseFormats(await v4l2Ctl(device, ["--list-formats-ext"]));
  const controls = parseControls(await v4l2Ctl(device, ["--list-ctrls-menus"]));
  return { info, formats, controls };
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
      timeoutMs: 5000,
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
