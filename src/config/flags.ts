/**
 * The flag tables, as data: every flag of `tuchuan`, `tuchuan record` and `tuchuan devices` with
 * the field it sets, how its value is read, its help line, and whether it belongs to a camera
 * (and so can be given per camera with `--camera-option NAME.KEY=VALUE`). The generic reader is
 * in parse_command.ts, the help text in usage.ts.
 *
 * @module
 */
import { LOG_LEVELS } from "../core/logger.ts";
import { MAX_SIDE, MIN_SIDE } from "../core/values.ts";
import { ENCODER_CHOICES, SIZE_MODES } from "../plan/encode_plan.ts";
import { MAX_WORKERS } from "./config.ts";
import type { ValueKind } from "./parsers.ts";

/** One flag. */
export interface FlagSpec {
  /** Long name without the dashes; the variable is `TUCHUAN_` + its name in capitals. */
  readonly name: string;
  /** The field it sets; `hooks.onOffline` for a field of a field. */
  readonly key: string;
  readonly value: ValueKind;
  /** Value placeholder in the usage text; empty for booleans. */
  readonly placeholder: string;
  readonly description: string;
  /** `camera` flags can be given per camera; `server` ones only once. */
  readonly scope: "camera" | "server";
  /** May be given several times (its variable holds several values, separated by spaces). */
  readonly repeatable?: boolean;
}

const SECONDS_MAX = 86_400;

const seconds = (expected: string, minExclusive = false) => ({
  kind: "number" as const,
  rule: { min: 0, minExclusive, max: SECONDS_MAX, expected },
});

/** Flags of `tuchuan` (serving). */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  {
    name: "source",
    key: "source",
    value: { kind: "text", expected: "a source such as auto, testsrc or /dev/video0" },
    placeholder: "SOURCE",
    description: "Where frames come from (see Sources)",
    scope: "camera",
  },
  {
    name: "camera",
    key: "cameras",
    value: { kind: "camera" },
    placeholder: "NAME=SOURCE",
    description: "A named camera, served under /NAME/ (repeat for several)",
    scope: "server",
    repeatable: true,
  },
  {
    name: "camera-option",
    key: "cameraOptions",
    value: { kind: "camera-option" },
    placeholder: "NAME.KEY=VAL",
    description: "A camera flag for one camera only, e.g. nozzle.rotate=180 (repeatable)",
    scope: "server",
    repeatable: true,
  },
  {
    name: "size",
    key: "size",
    value: { kind: "size" },
    placeholder: "WxH",
    description:
      `Serve within this box (${MIN_SIDE}..${MAX_SIDE} a side), aspect kept; native = source's`,
    scope: "camera",
  },
  {
    name: "size-mode",
    key: "sizeMode",
    value: { kind: "choice", choices: SIZE_MODES },
    placeholder: "MODE",
    description: "fit (keep aspect, inside the box), stretch (to the box), crop (fill it)",
    scope: "camera",
  },
  {
    name: "fps",
    key: "fps",
    value: { kind: "fps" },
    placeholder: "N",
    description: "Frames per second, above 0 up to 120; native = the source's own",
    scope: "camera",
  },
  {
    name: "quality",
    key: "quality",
    value: {
      kind: "number",
      rule: { min: 1, max: 100, integer: true, expected: "an integer from 1 to 100" },
    },
    placeholder: "1..100",
    description: "JPEG quality when tuchuan or ffmpeg encodes",
    scope: "camera",
  },
  {
    name: "overlay",
    key: "overlay",
    value: { kind: "overlay" },
    placeholder: "ITEMS",
    description: "fps,time,text=LABEL (text= takes the rest) or none",
    scope: "camera",
  },
  {
    name: "encoder",
    key: "encoder",
    value: { kind: "choice", choices: ENCODER_CHOICES },
    placeholder: "KIND",
    description: "auto (cheapest path), imagescript (our workers), ffmpeg (ffmpeg re-encodes)",
    scope: "camera",
  },
  {
    name: "workers",
    key: "workers",
    value: {
      kind: "number",
      rule: {
        min: 1,
        max: MAX_WORKERS,
        integer: true,
        expected: `an integer from 1 to ${MAX_WORKERS}`,
      },
    },
    placeholder: "N",
    description: `Encode workers for the overlay, 1..${MAX_WORKERS}; defaults to the CPU count`,
    scope: "camera",
  },
  {
    name: "rotate",
    key: "rotate",
    value: { kind: "rotation" },
    placeholder: "DEG",
    description: "Turn the picture clockwise: 0, 90, 180 or 270",
    scope: "camera",
  },
  {
    name: "flip",
    key: "flip",
    value: { kind: "flip" },
    placeholder: "AXIS",
    description: "Mirror the picture (before --rotate): none, h, v or hv",
    scope: "camera",
  },
  {
    name: "control",
    key: "controls",
    value: { kind: "control" },
    placeholder: "NAME=VALUE",
    description: "Set a camera control at every open, e.g. brightness=140 (repeatable)",
    scope: "camera",
    repeatable: true,
  },
  {
    name: "host",
    key: "host",
    value: { kind: "host" },
    placeholder: "HOST",
    description: "Listen address; 0.0.0.0 opens it to the network",
    scope: "server",
  },
  {
    name: "port",
    key: "port",
    value: {
      kind: "number",
      rule: { min: 0, max: 65_535, integer: true, expected: "an integer from 0 to 65535" },
    },
    placeholder: "PORT",
    description: "Listen port, 0..65535; 0 picks a free one",
    scope: "server",
  },
  {
    name: "tls-cert",
    key: "tlsCert",
    value: { kind: "text", expected: "a PEM certificate file" },
    placeholder: "FILE",
    description: "Serve HTTPS (and HTTP/2) with this PEM certificate chain (needs --tls-key)",
    scope: "server",
  },
  {
    name: "tls-key",
    key: "tlsKey",
    value: { kind: "text", expected: "a PEM private key file" },
    placeholder: "FILE",
    description: "The PEM private key of --tls-cert",
    scope: "server",
  },
  {
    name: "user",
    key: "user",
    value: { kind: "user" },
    placeholder: "USER",
    description: "Basic-auth user name (needs --password)",
    scope: "server",
  },
  {
    name: "password",
    key: "password",
    value: { kind: "secret" },
    placeholder: "PASSWORD",
    description: "Basic-auth password (needs --user); prefer the env",
    scope: "server",
  },
  {
    name: "token",
    key: "token",
    value: { kind: "secret" },
    placeholder: "TOKEN",
    description: "Token, as ?token=TOKEN (works in <img>) or a Bearer header",
    scope: "server",
  },
  {
    name: "cors",
    key: "cors",
    value: { kind: "cors" },
    placeholder: "ORIGIN",
    description: `Allow cross-origin reads and posts from "*" or http(s)://host[:port]`,
    scope: "server",
  },
  {
    name: "max-clients",
    key: "maxClients",
    value: {
      kind: "number",
      rule: {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        integer: true,
        expected: "an integer of at least 0 (0 = unlimited)",
      },
    },
    placeholder: "N",
    description: "Most viewers at once, 0 = unlimited; others get 503",
    scope: "camera",
  },
  {
    name: "idle-timeout",
    key: "idleTimeout",
    value: seconds(`a number of seconds from 0 to ${SECONDS_MAX}`),
    placeholder: "SECONDS",
    description: "Stop capturing this long after the last viewer",
    scope: "camera",
  },
  {
    name: "always-on",
    key: "alwaysOn",
    value: { kind: "boolean" },
    placeholder: "",
    description: "Capture even when nobody watches",
    scope: "camera",
  },
  {
    name: "send-timeout",
    key: "sendTimeout",
    value: seconds(`a number of seconds greater than 0 and at most ${SECONDS_MAX}`, true),
    placeholder: "SECONDS",
    description: "Close a viewer stalled for this long",
    scope: "server",
  },
  {
    name: "header-timeout",
    key: "headerTimeout",
    value: seconds(`a number of seconds greater than 0 and at most ${SECONDS_MAX}`, true),
    placeholder: "SECONDS",
    description: "Close a connection that sends no complete request for this long",
    scope: "server",
  },
  {
    name: "keepalive-timeout",
    key: "keepaliveTimeout",
    value: seconds(`a number of seconds greater than 0 and at most ${SECONDS_MAX}`, true),
    placeholder: "SECONDS",
    description: "Close a keep-alive connection idle for this long",
    scope: "server",
  },
  {
    name: "max-pending",
    key: "maxPending",
    value: {
      kind: "number",
      rule: { min: 1, max: 100_000, integer: true, expected: "an integer from 1 to 100000" },
    },
    placeholder: "N",
    description: "Most connections still to send their request; the oldest go",
    scope: "server",
  },
  {
    name: "drop-same-frames",
    key: "dropSameFrames",
    value: { kind: "boolean" },
    placeholder: "",
    description: "Skip identical frames (still resending one a second)",
    scope: "camera",
  },
  {
    name: "offline-image",
    key: "offlineImage",
    value: { kind: "text", expected: "an image file path" },
    placeholder: "FILE",
    description: `Shown while the source is down, instead of "NO SIGNAL"`,
    scope: "camera",
  },
  {
    name: "history",
    key: "history",
    value: {
      kind: "number",
      rule: { min: 0, max: 60, expected: "a number of seconds from 0 to 60" },
    },
    placeholder: "SECONDS",
    description: "Seconds of past frames kept for snapshots, 0..60",
    scope: "camera",
  },
  {
    name: "on-first-viewer",
    key: "hooks.onFirstViewer",
    value: { kind: "command" },
    placeholder: "CMD",
    description: "Run CMD (no shell) when the first viewer connects",
    scope: "camera",
  },
  {
    name: "on-last-viewer",
    key: "hooks.onLastViewer",
    value: { kind: "command" },
    placeholder: "CMD",
    description: "Run CMD when the last viewer leaves",
    scope: "camera",
  },
  {
    name: "on-offline",
    key: "hooks.onOffline",
    value: { kind: "command" },
    placeholder: "CMD",
    description: "Run CMD when the source goes down",
    scope: "camera",
  },
  {
    name: "on-online",
    key: "hooks.onOnline",
    value: { kind: "command" },
    placeholder: "CMD",
    description: "Run CMD when the source delivers frames again",
    scope: "camera",
  },
  {
    name: "hook-timeout",
    key: "hookTimeout",
    value: seconds(`a number of seconds greater than 0 and at most ${SECONDS_MAX}`, true),
    placeholder: "SECONDS",
    description: "Kill a hook that runs longer than this",
    scope: "server",
  },
  {
    name: "log-level",
    key: "logLevel",
    value: { kind: "choice", choices: LOG_LEVELS },
    placeholder: "LEVEL",
    description: `Logging: ${LOG_LEVELS.join(", ")}`,
    scope: "server",
  },
];

/** Flags of `tuchuan record`. */
export const RECORD_FLAGS: readonly FlagSpec[] = [
  ...SERVE_FLAGS.filter((f) => ["source", "size", "fps", "quality"].includes(f.name)),
  {
    name: "out",
    key: "out",
    value: { kind: "text", expected: "a file path" },
    placeholder: "FILE",
    description: "Where to write the recording (required), e.g. cam.mjpeg",
    scope: "server",
  },
  {
    name: "duration",
    key: "duration",
    value: {
      kind: "number",
      rule: {
        min: 0,
        minExclusive: true,
        max: Number.MAX_SAFE_INTEGER,
        expected: "a number of seconds greater than 0",
      },
    },
    placeholder: "SECONDS",
    description: "Record this long (or use --frames)",
    scope: "server",
  },
  {
    name: "frames",
    key: "frames",
    value: {
      kind: "number",
      rule: {
        min: 1,
        max: Number.MAX_SAFE_INTEGER,
        integer: true,
        expected: "an integer of at least 1",
      },
    },
    placeholder: "N",
    description: "Record this many frames (instead of --duration)",
    scope: "server",
  },
  ...SERVE_FLAGS.filter((f) => f.name === "log-level"),
];

/** Flags of `tuchuan devices`. */
export const DEVICES_FLAGS: readonly FlagSpec[] = [
  {
    name: "json",
    key: "json",
    value: { kind: "boolean" },
    placeholder: "",
    description: "Print JSON instead of text",
    scope: "server",
  },
];
