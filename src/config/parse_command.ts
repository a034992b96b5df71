/**
 * Command line and environment -> a validated {@link Command}: `tuchuan [flags]` serves,
 * `tuchuan record [flags]` records a fixture, `tuchuan devices` lists cameras. Every flag also
 * comes from its `TUCHUAN_*` variable; the command line wins. One generic reader applies the
 * flag tables (flags.ts): each value goes through its rule (parsers.ts), from argv and from the
 * environment alike, an empty variable included (`TUCHUAN_TOKEN=` is refused like
 * `--token ""`, never taken as "no token").
 *
 * Bad input throws a `TypeError` (wrong shape, unknown flag, missing value) or a `RangeError`
 * (a number out of range), whose message names the flag or variable and the value, except for
 * secrets, whose values are never repeated.
 *
 * @module
 */
import { showValue } from "../core/values.ts";
import {
  type CameraSettings,
  type Command,
  type Config,
  DEFAULT_CONFIG,
  type NamedCamera,
  type RecordOptions,
} from "./config.ts";
import { DEVICES_FLAGS, type FlagSpec, RECORD_FLAGS, SERVE_FLAGS } from "./flags.ts";
import { type CameraEntry, type CameraOption, parseValue } from "./parsers.ts";
import { devicesUsage, recordUsage, usage, versionText } from "./usage.ts";

/** The variable that carries a flag. */
export function envName(flag: string): string {
  return `TUCHUAN_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** A raw value and where it came from, before validation. */
interface RawValue {
  raw: string;
  /** `--flag` or `TUCHUAN_FLAG`, for error messages. */
  label: string;
  fromArgv: boolean;
}

type Scan =
  | { kind: "values"; values: Map<string, RawValue[]> }
  | { kind: "help" }
  | { kind: "version" };

/**
 * Collects raw values, env first and then argv, which replaces what the environment gave.
 * Values are validated afterwards, so an env value that argv overrides is never judged, and
 * `--help` works even next to a bad value.
 */
function scan(
  flags: readonly FlagSpec[],
  args: readonly string[],
  env: Record<string, string | undefined>,
  helpHint: string,
): Scan {
  const values = new Map<string, RawValue[]>();
  for (const spec of flags) {
    const name = envName(spec.name);
    const raw = env[name];
    if (raw === undefined) continue;
    // A repeatable flag's variable holds several values separated by spaces.
    const items = spec.repeatable ? raw.split(/\s+/).filter((v) => v !== "") : [raw];
    values.set(spec.name, items.map((r) => ({ raw: r, label: name, fromArgv: false })));
  }
  const byName = new Map(flags.map((spec) => [spec.name, spec]));
  const fromArgv = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--version" || arg === "-V") return { kind: "version" };
    if (!arg.startsWith("-")) {
      throw new TypeError(`Unexpected argument ${showValue(arg)} ${helpHint}`);
    }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const spec = flag.startsWith("--") ? byName.get(flag.slice(2)) : undefined;
    if (!spec) throw new TypeError(`Unknown flag ${flag} ${helpHint}`);
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else if (spec.value.kind === "boolean") raw = "true";
    else {
      const next = args[i + 1];
      // "--fps --port 80" is a forgotten value, not a value of "--port"; the token is not
      // echoed because it might be a secret ("--password=--x" is the escape).
      if (next === undefined || next.startsWith("--")) {
        throw new TypeError(`Missing value for ${flag}: expected ${spec.placeholder} ${helpHint}`);
      }
      raw = next;
      i++;
    }
    const value = { raw, label: flag, fromArgv: true };
    if (!fromArgv.has(spec.name)) {
      fromArgv.add(spec.name);
      values.set(spec.name, [value]);
    } else if (spec.repeatable) values.get(spec.name)!.push(value);
    else values.set(spec.name, [value]);
  }
  return { kind: "values", values };
}

/** Sets `key` (a field, or `field.subfield`) of `into`; repeatable keys collect a list. */
function setField(into: Record<string, unknown>, key: string, value: unknown, repeatable: boolean) {
  const dot = key.indexOf(".");
  if (dot !== -1) {
    const outer = key.slice(0, dot);
    const inner = { ...(into[outer] as Record<string, unknown> ?? {}) };
    setField(inner, key.slice(dot + 1), value, repeatable);
    into[outer] = inner;
    return;
  }
  if (repeatable) into[key] = [...(into[key] as unknown[] ?? []), value];
  else into[key] = value;
}

/** The one generic apply: each collected value through its flag's rule, into `into`. */
function applyAll(
  flags: readonly FlagSpec[],
  values: Map<string, RawValue[]>,
  into: Record<string, unknown>,
): void {
  for (const spec of flags) {
    const list = values.get(spec.name);
    if (!list) continue;
    // Repeatable flags from the command line replace the defaults rather than add to them.
    if (spec.repeatable) setField(into, spec.key, [], false);
    for (const v of list) {
      setField(into, spec.key, parseValue(spec.value, v.raw, v.label), spec.repeatable ?? false);
    }
  }
}

const CAMERA_FLAGS = new Map(
  SERVE_FLAGS.filter((f) => f.scope === "camera" && f.name !== "source").map((f) => [f.name, f]),
);

/** Named cameras with their own options; duplicate names and unknown options are refused. */
function namedCameras(
  entries: readonly CameraEntry[],
  options: readonly CameraOption[],
): NamedCamera[] {
  const seen = new Set<string>();
  const cameras = entries.map((e) => {
    const key = e.name.toLowerCase();
    if (seen.has(key)) throw new TypeError(`Invalid --camera ${e.name}: the name is used twice`);
    seen.add(key);
    return { ...e, options: {} as Partial<CameraSettings> };
  });
  for (const opt of options) {
    const label = `--camera-option ${opt.camera}.${opt.key}`;
    const camera = cameras.find((c) => c.name === opt.camera);
    if (!camera) {
      throw new TypeError(
        `Invalid ${label}: no --camera is named ${showValue(opt.camera)}${
          cameras.length ? ` (there are ${cameras.map((c) => c.name).join(", ")})` : ""
        }`,
      );
    }
    const spec = CAMERA_FLAGS.get(opt.key);
    if (!spec) {
      throw new TypeError(
        `Invalid ${label}: ${showValue(opt.key)} is not a camera option (${
          [...CAMERA_FLAGS.keys()].join(", ")
        })`,
      );
    }
    setField(
      camera.options as Record<string, unknown>,
      spec.key,
      parseValue(spec.value, opt.raw, label),
      spec.repeatable ?? false,
    );
  }
  return cameras;
}

function parseServe(args: readonly string[], env: Record<string, string | undefined>): Command {
  const scanned = scan(SERVE_FLAGS, args, env, "(see --help)");
  if (scanned.kind === "help") return { kind: "help", text: usage() };
  if (scanned.kind === "version") return { kind: "version", text: versionText() };
  const draft: Record<string, unknown> = { ...DEFAULT_CONFIG, cameras: [], cameraOptions: [] };
  applyAll(SERVE_FLAGS, scanned.values, draft);
  const { cameraOptions, cameras, ...rest } = draft;
  const config = {
    ...rest,
    cameras: namedCameras(cameras as CameraEntry[], cameraOptions as CameraOption[]),
  } as unknown as Config;
  if (config.cameras.length > 0 && scanned.values.has("source")) {
    const label = scanned.values.get("source")![0].label;
    throw new TypeError(
      `Invalid ${label} with --camera: give each camera its source in --camera NAME=SOURCE`,
    );
  }
  // Checked after merging so that the user can sit in argv and the password in the environment.
  pair(config.user, config.password, "user", "password");
  pair(config.tlsCert, config.tlsKey, "tls-cert", "tls-key");
  return { kind: "serve", config };
}

/** Two flags that only work together. */
function pair(a: unknown, b: unknown, nameA: string, nameB: string): void {
  if ((a === undefined) === (b === undefined)) return;
  const [missing, present] = a === undefined ? [nameA, nameB] : [nameB, nameA];
  throw new TypeError(
    `Missing --${missing} (or ${envName(missing)}): --${present} needs --${missing}`,
  );
}

function parseRecord(args: readonly string[], env: Record<string, string | undefined>): Command {
  const hint = "(see tuchuan record --help)";
  const scanned = scan(RECORD_FLAGS, args, env, hint);
  if (scanned.kind === "help") return { kind: "help", text: recordUsage() };
  if (scanned.kind === "version") return { kind: "version", text: versionText() };
  const values = scanned.values;
  // --duration and --frames exclude each other; a command-line choice of either overrides an
  // environment choice of the other, and only two from the same place conflict.
  const duration = values.get("duration")?.[0];
  const frames = values.get("frames")?.[0];
  if (duration && frames) {
    if (duration.fromArgv !== frames.fromArgv) {
      values.delete(duration.fromArgv ? "frames" : "duration");
    } else {
      throw new TypeError(`Use ${duration.label} or ${frames.label}, not both`);
    }
  }
  const draft: Record<string, unknown> = {
    source: DEFAULT_CONFIG.source,
    size: DEFAULT_CONFIG.size,
    fps: DEFAULT_CONFIG.fps,
    quality: DEFAULT_CONFIG.quality,
    logLevel: DEFAULT_CONFIG.logLevel,
  };
  applyAll(RECORD_FLAGS, values, draft);
  if (draft.out === undefined) {
    throw new TypeError(
      `Missing --out FILE (or TUCHUAN_OUT): where to write the recording ${hint}`,
    );
  }
  const options = draft as unknown as RecordOptions;
  if (options.frames === undefined) options.duration ??= DEFAULT_RECORD_SECONDS;
  return { kind: "record", options };
}

/** `tuchuan record` records this many seconds when neither --duration nor --frames is given. */
export const DEFAULT_RECORD_SECONDS = 10;

function parseDevices(args: readonly string[], env: Record<string, string | undefined>): Command {
  const scanned = scan(DEVICES_FLAGS, args, env, "(see tuchuan devices --help)");
  if (scanned.kind === "help") return { kind: "help", text: devicesUsage() };
  if (scanned.kind === "version") return { kind: "version", text: versionText() };
  const draft: Record<string, unknown> = { json: false };
  applyAll(DEVICES_FLAGS, scanned.values, draft);
  return { kind: "devices", json: draft.json as boolean };
}

/**
 * Parses the command line (without the program name) and the environment into a command.
 * A first argument `record` or `devices` selects that command. Values from `args` override
 * `TUCHUAN_*` variables from `env`.
 *
 * @throws {TypeError} on an unknown flag, a missing value, or a value of the wrong shape.
 * @throws {RangeError} on a number out of range or not an integer where one is needed.
 */
export function parseCommand(args: string[], env: Record<string, string | undefined>): Command {
  if (args[0] === "record") return parseRecord(args.slice(1), env);
  if (args[0] === "devices") return parseDevices(args.slice(1), env);
  return parseServe(args, env);
}
