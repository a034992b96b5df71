/**
 * Command line and environment -> a validated {@link Command}: `tuchuan [flags]` serves,
 * `tuchuan record [flags]` records a fixture. Every flag also comes from a `TUCHUAN_*`
 * environment variable; the command line wins. {@link usage} is the `--help` text.
 *
 * Bad input throws a `TypeError` (wrong shape, unknown flag, missing value) or a `RangeError`
 * (a number out of range, or not an integer where one is needed), with a message that names the
 * flag or variable and the value, except for secrets, whose values are never repeated.
 *
 * @module
 */

/** How much tuchuan logs, from most to least verbose. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Which JPEG encoder to use; `auto` passes camera JPEG through when nothing needs the pixels. */
export type EncoderKind = "auto" | "imagescript" | "ffmpeg";

/** What to draw on every frame. */
export interface OverlayOptions {
  /** The measured frames per second. */
  fps: boolean;
  /** The wall-clock time. */
  time: boolean;
  /** A fixed label. */
  text?: string;
}

/** Everything `tuchuan` (the server) needs, validated. */
export interface Config {
  /** `auto`, `testsrc`, `/dev/videoN`, a video file, a JPEG folder, a URL or a `.mjpeg` fixture. */
  source: string;
  /** Frame width in pixels, 16..7680. */
  width: number;
  /** Frame height in pixels, 16..7680. */
  height: number;
  /** Capture frame rate, greater than 0 and at most 120. */
  fps: number;
  /** JPEG quality, 1..100. */
  quality: number;
  /** The overlay, or `null` for none. */
  overlay: OverlayOptions | null;
  /** Address to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Basic-auth user; set together with {@link Config.password}. */
  user?: string;
  /** Basic-auth password; set together with {@link Config.user}. */
  password?: string;
  /** Access token (`?token=` or `Authorization: Bearer`). */
  token?: string;
  /** `Access-Control-Allow-Origin` value: `*` or a normalised http(s) origin. */
  cors?: string;
  /** Most simultaneous stream clients; 0 means unlimited. */
  maxClients: number;
  /** Seconds to keep capturing after the last viewer leaves. */
  idleTimeout: number;
  /** Capture even when nobody watches. */
  alwaysOn: boolean;
  /** Seconds a client may make no progress before it is closed. */
  sendTimeout: number;
  /** Which encoder to use. */
  encoder: EncoderKind;
  /** Encoder worker count, 1..64. */
  workers: number;
  /** Skip byte-identical frames (resending the last one every second). */
  dropSameFrames: boolean;
  /** Image shown while the source is offline; existence is checked at startup, not here. */
  offlineImage?: string;
  /** Seconds of frames kept for snapshots from the past, 0..60. */
  history: number;
  /** How much to log. */
  logLevel: LogLevel;
}

/** Everything `tuchuan record` needs, validated. Exactly one of `duration` and `frames` is set. */
export interface RecordOptions {
  /** Same forms as {@link Config.source}. */
  source: string;
  /** Frame width in pixels, 16..7680. */
  width: number;
  /** Frame height in pixels, 16..7680. */
  height: number;
  /** Capture frame rate, greater than 0 and at most 120. */
  fps: number;
  /** JPEG quality, 1..100. */
  quality: number;
  /** File to write the recording to. */
  out: string;
  /** Seconds to record. */
  duration?: number;
  /** Frames to record. */
  frames?: number;
  /** How much to log. */
  logLevel: LogLevel;
}

/** What the command line asks for. */
export type Command =
  | { kind: "serve"; config: Config }
  | { kind: "record"; options: RecordOptions }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string };

/** The tuchuan version, as `--version` prints it. */
export const VERSION = "0.1.0";

/** Accepted `--log-level` values, most verbose first. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(["debug", "info", "warn", "error"]);

/** Accepted `--encoder` values. */
export const ENCODER_KINDS: readonly EncoderKind[] = Object.freeze([
  "auto",
  "imagescript",
  "ffmpeg",
]);

/** Upper bound for timeouts in seconds; beyond it `--always-on` is what is meant. */
const MAX_TIMEOUT_SECONDS = 86_400;
const MIN_SIDE = 16;
const MAX_SIDE = 7680;
const MAX_WORKERS = 64;
/** `tuchuan record` records this many seconds when neither --duration nor --frames is given. */
const DEFAULT_RECORD_SECONDS = 10;

function defaultWorkers(): number {
  // hardwareConcurrency can be missing or 0 in restricted runtimes; the pool needs at least one.
  const cores = Math.floor(globalThis.navigator?.hardwareConcurrency ?? 1);
  return Math.min(MAX_WORKERS, Math.max(1, Number.isFinite(cores) ? cores : 1));
}

/** The configuration used when no flag or variable says otherwise. */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  source: "auto",
  width: 640,
  height: 480,
  fps: 30,
  quality: 70,
  overlay: null,
  host: "127.0.0.1",
  port: 8080,
  maxClients: 0,
  idleTimeout: 10,
  alwaysOn: false,
  sendTimeout: 10,
  encoder: "auto",
  workers: defaultWorkers(),
  dropSameFrames: false,
  history: 5,
  logLevel: "info",
});

// ---------------------------------------------------------------------------------------------
// Value parsers. `label` is `--flag` or `TUCHUAN_FLAG`, whichever the value came from.

/** Quotes a value for an error message, escaping control characters and capping its length. */
function show(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}

function invalid(
  ErrorClass: TypeErrorConstructor | RangeErrorConstructor,
  label: string,
  raw: string,
  expected: string,
): Error {
  return new ErrorClass(`Invalid ${label} ${show(raw)}: expected ${expected}`);
}

/** A decimal number, no exponent, hex or surrounding spaces (which `Number()` would accept). */
const NUMBER_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

interface NumberRule {
  min: number;
  max: number;
  /** `min` itself is not allowed. */
  minExclusive?: boolean;
  integer?: boolean;
  /** Completes "expected …" in error messages. */
  expected: string;
}

function parseNumber(raw: string, label: string, rule: NumberRule): number {
  if (!NUMBER_PATTERN.test(raw)) throw invalid(TypeError, label, raw, rule.expected);
  const value = Number(raw);
  const belowMin = rule.minExclusive ? value <= rule.min : value < rule.min;
  if (
    !Number.isFinite(value) || belowMin || value > rule.max ||
    (rule.integer && !Number.isInteger(value))
  ) {
    throw invalid(RangeError, label, raw, rule.expected);
  }
  // Normalises "-0" and "+5".
  return value + 0;
}

const SIZE_PATTERN = /^(\d+)[xX](\d+)$/;

function parseSize(raw: string, label: string): { width: number; height: number } {
  const expected = `WIDTHxHEIGHT with each side from ${MIN_SIDE} to ${MAX_SIDE} pixels`;
  const match = SIZE_PATTERN.exec(raw);
  if (!match) throw invalid(TypeError, label, raw, expected);
  const width = Number(match[1]);
  const height = Number(match[2]);
  if ([width, height].some((side) => side < MIN_SIDE || side > MAX_SIDE)) {
    throw invalid(RangeError, label, raw, expected);
  }
  return { width, height };
}

function parseChoice<T extends string>(raw: string, label: string, choices: readonly T[]): T {
  // Case-insensitive because env files often say INFO or FFMPEG.
  const lower = raw.toLowerCase();
  const found = choices.find((choice) => choice === lower);
  if (found === undefined) {
    throw invalid(TypeError, label, raw, `one of ${choices.join(", ")}`);
  }
  return found;
}

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

function parseBoolean(raw: string, label: string): boolean {
  const lower = raw.toLowerCase();
  if (TRUE_WORDS.includes(lower)) return true;
  if (FALSE_WORDS.includes(lower)) return false;
  throw invalid(TypeError, label, raw, "true, false, 1 or 0");
}

function parseNonEmpty(raw: string, label: string, what: string): string {
  if (raw === "") throw invalid(TypeError, label, raw, what);
  return raw;
}

/** Secrets are checked without ever putting their value into a message. */
function parseSecret(raw: string, label: string): string {
  if (raw === "") throw new TypeError(`Invalid ${label}: expected a non-empty value`);
  return raw;
}

function parseUser(raw: string, label: string): string {
  // Basic auth joins user and password with ":", so a colon in the user cannot round-trip.
  if (raw === "" || raw.includes(":")) {
    throw invalid(TypeError, label, raw, "a non-empty user name without a colon");
  }
  return raw;
}

function parseHost(raw: string, label: string): string {
  if (raw === "" || /\s/.test(raw)) {
    throw invalid(TypeError, label, raw, "a host name or IP address such as 0.0.0.0");
  }
  return raw;
}

function parseCors(raw: string, label: string): string {
  const expected = `"*" or an origin such as https://example.com`;
  if (raw === "*") return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(TypeError, label, raw, expected);
  }
  // An origin is scheme + host + port only: browsers compare the header byte for byte.
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password ||
    url.pathname !== "/" || url.search || url.hash || raw.endsWith("?") || raw.endsWith("#")
  ) {
    throw invalid(TypeError, label, raw, expected);
  }
  return url.origin;
}

const OVERLAY_EXPECTED = `a comma-separated list of fps, time and text=LABEL, or none`;

function parseOverlay(raw: string, label: string): OverlayOptions | null {
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed.toLowerCase() === "none") return null;
  const overlay: OverlayOptions = { fps: false, time: false };
  let rest = trimmed;
  let any = false;
  while (rest !== "") {
    const item = rest.replace(/^\s+/, "");
    if (item.toLowerCase().startsWith("text=")) {
      // The label takes the rest of the value, so it may contain commas.
      const text = item.slice("text=".length);
      if (text.trim() === "") {
        throw invalid(TypeError, label, raw, `${OVERLAY_EXPECTED} (text= needs a label)`);
      }
      overlay.text = text;
      any = true;
      break;
    }
    const comma = item.indexOf(",");
    const word = (comma === -1 ? item : item.slice(0, comma)).trim().toLowerCase();
    rest = comma === -1 ? "" : item.slice(comma + 1);
    if (word === "fps") overlay.fps = true;
    else if (word === "time") overlay.time = true;
    // A stray comma ("fps,,time" or "fps,") is a harmless typo, not worth failing over.
    else if (word !== "") {
      throw invalid(TypeError, label, raw, `${OVERLAY_EXPECTED} (unknown item ${show(word)})`);
    } else continue;
    any = true;
  }
  return any ? overlay : null;
}

const FPS_RULE: NumberRule = {
  min: 0,
  minExclusive: true,
  max: 120,
  expected: "a number greater than 0 and at most 120",
};
const QUALITY_RULE: NumberRule = {
  min: 1,
  max: 100,
  integer: true,
  expected: "an integer from 1 to 100",
};

// ---------------------------------------------------------------------------------------------
// Flag tables.

interface FlagSpec<T> {
  /** Long name without the dashes. */
  readonly name: string;
  /** Value placeholder in the usage text; empty for booleans. */
  readonly placeholder: string;
  readonly description: string;
  readonly defaultText: string;
  /** Takes no value on the command line (`--flag` or `--flag=true|false`). */
  readonly boolean?: boolean;
  readonly apply: (into: T, raw: string, label: string) => void;
}

/** Fields that `tuchuan` and `tuchuan record` share, so both tables can use the same specs. */
interface CaptureFields {
  source: string;
  width: number;
  height: number;
  fps: number;
  quality: number;
  logLevel: LogLevel;
}

type RecordDraft = CaptureFields & { out?: string; duration?: number; frames?: number };

function captureFlags(defaults: CaptureFields): FlagSpec<CaptureFields>[] {
  return [
    {
      name: "source",
      placeholder: "SOURCE",
      description: "Where frames come from (see Sources below)",
      defaultText: defaults.source,
      apply: (into, raw, label) => {
        into.source = parseNonEmpty(raw, label, "a source such as auto, testsrc or /dev/video0");
      },
    },
    {
      name: "size",
      placeholder: "WxH",
      description: `Frame size, each side ${MIN_SIDE}..${MAX_SIDE}`,
      defaultText: `${defaults.width}x${defaults.height}`,
      apply: (into, raw, label) => {
        Object.assign(into, parseSize(raw, label));
      },
    },
    {
      name: "fps",
      placeholder: "N",
      description: "Frames per second, above 0 and up to 120 (0.5 allowed)",
      defaultText: String(defaults.fps),
      apply: (into, raw, label) => {
        into.fps = parseNumber(raw, label, FPS_RULE);
      },
    },
    {
      name: "quality",
      placeholder: "1..100",
      description: "JPEG quality",
      defaultText: String(defaults.quality),
      apply: (into, raw, label) => {
        into.quality = parseNumber(raw, label, QUALITY_RULE);
      },
    },
  ];
}

function logLevelFlag(defaults: CaptureFields): FlagSpec<CaptureFields> {
  return {
    name: "log-level",
    placeholder: "LEVEL",
    description: `Logging: ${LOG_LEVELS.join(", ")}`,
    defaultText: defaults.logLevel,
    apply: (into, raw, label) => {
      into.logLevel = parseChoice(raw, label, LOG_LEVELS);
    },
  };
}

const SERVE_FLAGS: readonly FlagSpec<Config>[] = [
  ...captureFlags(DEFAULT_CONFIG),
  {
    name: "overlay",
    placeholder: "ITEMS",
    description: "fps,time,text=LABEL (text= takes the rest) or none",
    defaultText: "none",
    apply: (into, raw, label) => {
      into.overlay = parseOverlay(raw, label);
    },
  },
  {
    name: "host",
    placeholder: "HOST",
    description: "Listen address; 0.0.0.0 opens it to the network",
    defaultText: DEFAULT_CONFIG.host,
    apply: (into, raw, label) => {
      into.host = parseHost(raw, label);
    },
  },
  {
    name: "port",
    placeholder: "PORT",
    description: "Listen port, 0..65535; 0 picks a free one",
    defaultText: String(DEFAULT_CONFIG.port),
    apply: (into, raw, label) => {
      into.port = parseNumber(raw, label, {
        min: 0,
        max: 65_535,
        integer: true,
        expected: "an integer from 0 to 65535",
      });
    },
  },
  {
    name: "user",
    placeholder: "USER",
    description: "Basic-auth user name (needs --password)",
    defaultText: "none",
    apply: (into, raw, label) => {
      into.user = parseUser(raw, label);
    },
  },
  {
    name: "password",
    placeholder: "PASSWORD",
    description: "Basic-auth password (needs --user); prefer the env",
    defaultText: "none",
    apply: (into, raw, label) => {
      into.password = parseSecret(raw, label);
    },
  },
  {
    name: "token",
    placeholder: "TOKEN",
    description: "Token, as ?token=TOKEN (works in <img>) or a Bearer header",
    defaultText: "none",
    apply: (into, raw, label) => {
      into.token = parseSecret(raw, label);
    },
  },
  {
    name: "cors",
    placeholder: "ORIGIN",
    description: `Allow cross-origin reads from "*" or http(s)://host[:port]`,
    defaultText: "none",
    apply: (into, raw, label) => {
      into.cors = parseCors(raw, label);
    },
  },
  {
    name: "max-clients",
    placeholder: "N",
    description: "Most viewers at once, 0 = unlimited; others get 503",
    defaultText: String(DEFAULT_CONFIG.maxClients),
    apply: (into, raw, label) => {
      into.maxClients = parseNumber(raw, label, {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        integer: true,
        expected: "an integer of at least 0 (0 = unlimited)",
      });
    },
  },
  {
    name: "idle-timeout",
    placeholder: "SECONDS",
    description: "Stop capturing this long after the last viewer",
    defaultText: String(DEFAULT_CONFIG.idleTimeout),
    apply: (into, raw, label) => {
      into.idleTimeout = parseNumber(raw, label, {
        min: 0,
        max: MAX_TIMEOUT_SECONDS,
        expected: `a number of seconds from 0 to ${MAX_TIMEOUT_SECONDS}`,
      });
    },
  },
  {
    name: "always-on",
    placeholder: "",
    boolean: true,
    description: "Capture even when nobody watches",
    defaultText: "off",
    apply: (into, raw, label) => {
      into.alwaysOn = parseBoolean(raw, label);
    },
  },
  {
    name: "send-timeout",
    placeholder: "SECONDS",
    description: "Close a viewer stalled for this long",
    defaultText: String(DEFAULT_CONFIG.sendTimeout),
    apply: (into, raw, label) => {
      into.sendTimeout = parseNumber(raw, label, {
        min: 0,
        minExclusive: true,
        max: MAX_TIMEOUT_SECONDS,
        expected: `a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS}`,
      });
    },
  },
  {
    name: "encoder",
    placeholder: "KIND",
    description: "auto (camera JPEG passthrough when possible), imagescript, ffmpeg",
    defaultText: DEFAULT_CONFIG.encoder,
    apply: (into, raw, label) => {
      into.encoder = parseChoice(raw, label, ENCODER_KINDS);
    },
  },
  {
    name: "workers",
    placeholder: "N",
    description: `Encoder workers, 1..${MAX_WORKERS}; defaults to the CPU count`,
    defaultText: String(DEFAULT_CONFIG.workers),
    apply: (into, raw, label) => {
      into.workers = parseNumber(raw, label, {
        min: 1,
        max: MAX_WORKERS,
        integer: true,
        expected: `an integer from 1 to ${MAX_WORKERS}`,
      });
    },
  },
  {
    name: "drop-same-frames",
    placeholder: "",
    boolean: true,
    description: "Skip identical frames (still resending one a second)",
    defaultText: "off",
    apply: (into, raw, label) => {
      into.dropSameFrames = parseBoolean(raw, label);
    },
  },
  {
    name: "offline-image",
    placeholder: "FILE",
    description: `Shown while the source is down, instead of "NO SIGNAL"`,
    defaultText: "none",
    apply: (into, raw, label) => {
      into.offlineImage = parseNonEmpty(raw, label, "an image file path");
    },
  },
  {
    name: "history",
    placeholder: "SECONDS",
    description: "Seconds of past frames kept for snapshots, 0..60",
    defaultText: String(DEFAULT_CONFIG.history),
    apply: (into, raw, label) => {
      into.history = parseNumber(raw, label, {
        min: 0,
        max: 60,
        expected: "a number of seconds from 0 to 60",
      });
    },
  },
  logLevelFlag(DEFAULT_CONFIG),
];

const RECORD_DEFAULTS: Readonly<CaptureFields> = Object.freeze({
  source: DEFAULT_CONFIG.source,
  width: DEFAULT_CONFIG.width,
  height: DEFAULT_CONFIG.height,
  fps: DEFAULT_CONFIG.fps,
  quality: DEFAULT_CONFIG.quality,
  logLevel: DEFAULT_CONFIG.logLevel,
});

const RECORD_FLAGS: readonly FlagSpec<RecordDraft>[] = [
  ...captureFlags(RECORD_DEFAULTS),
  {
    name: "out",
    placeholder: "FILE",
    description: "Where to write the recording (required), e.g. cam.mjpeg",
    defaultText: "none",
    apply: (into, raw, label) => {
      into.out = parseNonEmpty(raw, label, "a file path");
    },
  },
  {
    name: "duration",
    placeholder: "SECONDS",
    description: "Record this long (or use --frames)",
    defaultText: String(DEFAULT_RECORD_SECONDS),
    apply: (into, raw, label) => {
      into.duration = parseNumber(raw, label, {
        min: 0,
        minExclusive: true,
        max: Number.MAX_SAFE_INTEGER,
        expected: "a number of seconds greater than 0",
      });
    },
  },
  {
    name: "frames",
    placeholder: "N",
    description: "Record this many frames (instead of --duration)",
    defaultText: "none",
    apply: (into, raw, label) => {
      into.frames = parseNumber(raw, label, {
        min: 1,
        max: Number.MAX_SAFE_INTEGER,
        integer: true,
        expected: "an integer of at least 1",
      });
    },
  },
  logLevelFlag(RECORD_DEFAULTS),
];

// ---------------------------------------------------------------------------------------------
// Parsing.

function envName(flag: string): string {
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
  | { kind: "values"; values: Map<string, RawValue> }
  | { kind: "help" }
  | { kind: "version" };

/**
 * Collects raw values, env first and then argv so that the command line overrides. Values are
 * validated afterwards, so an env value that argv overrides is never judged, and `--help` works
 * even next to a bad value.
 */
function scan<T>(
  flags: readonly FlagSpec<T>[],
  args: readonly string[],
  env: Record<string, string | undefined>,
  helpHint: string,
): Scan {
  const values = new Map<string, RawValue>();
  for (const spec of flags) {
    const name = envName(spec.name);
    const raw = env[name];
    if (raw !== undefined && raw !== "") {
      values.set(spec.name, { raw, label: name, fromArgv: false });
    }
  }
  const byName = new Map(flags.map((spec) => [spec.name, spec]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--version" || arg === "-V") return { kind: "version" };
    if (!arg.startsWith("-")) throw new TypeError(`Unexpected argument ${show(arg)} ${helpHint}`);
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const spec = flag.startsWith("--") ? byName.get(flag.slice(2)) : undefined;
    if (!spec) throw new TypeError(`Unknown flag ${flag} ${helpHint}`);
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else if (spec.boolean) raw = "true";
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
    values.set(spec.name, { raw, label: flag, fromArgv: true });
  }
  return { kind: "values", values };
}

function applyAll<T>(flags: readonly FlagSpec<T>[], values: Map<string, RawValue>, into: T): void {
  for (const spec of flags) {
    const value = values.get(spec.name);
    if (value) spec.apply(into, value.raw, value.label);
  }
}

function parseServe(args: readonly string[], env: Record<string, string | undefined>): Command {
  const scanned = scan(SERVE_FLAGS, args, env, "(see --help)");
  if (scanned.kind === "help") return { kind: "help", text: usage() };
  if (scanned.kind === "version") return { kind: "version", text: versionText() };
  const config: Config = { ...DEFAULT_CONFIG };
  applyAll(SERVE_FLAGS, scanned.values, config);
  // Checked after merging so that the user can sit in argv and the password in the environment.
  if ((config.user === undefined) !== (config.password === undefined)) {
    const missing = config.user === undefined ? "user" : "password";
    const present = missing === "user" ? "password" : "user";
    throw new TypeError(
      `Missing --${missing} (or ${envName(missing)}): --${present} needs --${missing}`,
    );
  }
  return { kind: "serve", config };
}

function parseRecord(args: readonly string[], env: Record<string, string | undefined>): Command {
  const hint = "(see tuchuan record --help)";
  const scanned = scan(RECORD_FLAGS, args, env, hint);
  if (scanned.kind === "help") return { kind: "help", text: recordUsage() };
  if (scanned.kind === "version") return { kind: "version", text: versionText() };
  const values = scanned.values;
  // --duration and --frames exclude each other; a command-line choice of either overrides an
  // environment choice of the other, and only two from the same place conflict.
  const duration = values.get("duration");
  const frames = values.get("frames");
  if (duration && frames) {
    if (duration.fromArgv !== frames.fromArgv) {
      values.delete(duration.fromArgv ? "frames" : "duration");
    } else {
      throw new TypeError(`Use ${duration.label} or ${frames.label}, not both`);
    }
  }
  const draft: RecordDraft = { ...RECORD_DEFAULTS };
  applyAll(RECORD_FLAGS, values, draft);
  if (draft.out === undefined) {
    throw new TypeError(
      `Missing --out FILE (or TUCHUAN_OUT): where to write the recording ${hint}`,
    );
  }
  const options: RecordOptions = {
    source: draft.source,
    width: draft.width,
    height: draft.height,
    fps: draft.fps,
    quality: draft.quality,
    out: draft.out,
    logLevel: draft.logLevel,
  };
  if (draft.frames !== undefined) options.frames = draft.frames;
  else options.duration = draft.duration ?? DEFAULT_RECORD_SECONDS;
  return { kind: "record", options };
}

/**
 * Parses the command line (without the program name) and the environment into a command.
 * A first argument `record` selects `tuchuan record`. Values from `args` override `TUCHUAN_*`
 * variables from `env`; empty variables are ignored.
 *
 * @throws {TypeError} on an unknown flag, a missing value, or a value of the wrong shape.
 * @throws {RangeError} on a number out of range or not an integer where one is needed.
 */
export function parseCommand(args: string[], env: Record<string, string | undefined>): Command {
  if (args[0] === "record") return parseRecord(args.slice(1), env);
  return parseServe(args, env);
}

// ---------------------------------------------------------------------------------------------
// Help text.

function versionText(): string {
  return `tuchuan ${VERSION}`;
}

/** One aligned line per flag; `extra` rows are flags without a value, default or variable. */
function flagLines<T>(flags: readonly FlagSpec<T>[], extra: [string, string][] = []): string[] {
  const rows: [string, string][] = flags.map((spec) => [
    `--${spec.name}${spec.placeholder ? ` ${spec.placeholder}` : ""}`,
    `${spec.description} (default: ${spec.defaultText}, env: ${envName(spec.name)})`,
  ]);
  rows.push(...extra);
  const width = Math.max(...rows.map(([head]) => head.length)) + 2;
  return rows.map(([head, text]) => `  ${head.padEnd(width)}${text}`);
}

const SOURCE_LINES = [
  "Sources (--source):",
  "  auto                 /dev/video0 if present, else ffmpeg testsrc, else the bundled fixture",
  "  testsrc              ffmpeg's test pattern",
  "  /dev/videoN          a V4L2 camera (its own MJPEG when it has it)",
  "  FILE.mp4, FILE.mkv   a video file, looped in real time",
  "  DIR                  a folder of JPEGs, looped",
  "  http(s)://...        an IP camera or another MJPEG stream",
  "  rtsp://...           an RTSP camera",
  "  FILE.mjpeg           a recording made by tuchuan record, replayed at its timing",
];

/** The `tuchuan record --help` text: every record flag with its default and env variable. */
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

/** The `--help` text: every flag with its default and env variable, sources, and `record`. */
export function usage(): string {
  return [
    `tuchuan ${VERSION} — live MJPEG over HTTP from a camera, video file or URL`,
    "",
    "Usage: tuchuan [flags]",
    "       tuchuan record --out FILE [flags]",
    "",
    "Flags (each also from its TUCHUAN_* variable; the command line wins):",
    ...flagLines(SERVE_FLAGS, [["--help", "Show this help"], ["--version", "Show the version"]]),
    "",
    ...SOURCE_LINES,
    "",
    "Record (tuchuan record): save a source as a .mjpeg fixture, as received, with timestamps.",
    ...flagLines(RECORD_FLAGS),
    "",
    "Booleans take --flag or --flag=true|false; their variables take 1, true, 0 or false.",
    "",
  ].join("\n");
}
