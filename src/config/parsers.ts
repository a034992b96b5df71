/**
 * The value rules of tuchuan's own flags, on top of the shared ones in core/values.ts: each
 * takes the raw text and the label it came from (`--flag` or `TUCHUAN_FLAG`) and throws a
 * `TypeError` or `RangeError` naming both, except for secrets, whose values are never repeated.
 *
 * @module
 */
import type { Size } from "../core/frame.ts";
import { type Flip, FLIPS, type Rotation, ROTATIONS } from "../core/orientation.ts";
import {
  invalidValue,
  type NumberRule,
  parseBoolean,
  parseChoice,
  parseNonEmpty,
  parseNumber,
  parseSize,
  showValue,
} from "../core/values.ts";
import type { OverlayOptions } from "../image/overlay.ts";

/** How a flag's value is read. */
export type ValueKind =
  | { readonly kind: "number"; readonly rule: NumberRule }
  | { readonly kind: "size" }
  | { readonly kind: "fps" }
  | { readonly kind: "choice"; readonly choices: readonly string[] }
  | { readonly kind: "rotation" }
  | { readonly kind: "flip" }
  | { readonly kind: "boolean" }
  | { readonly kind: "text"; readonly expected: string }
  | { readonly kind: "secret" }
  | { readonly kind: "user" }
  | { readonly kind: "host" }
  | { readonly kind: "cors" }
  | { readonly kind: "overlay" }
  | { readonly kind: "control" }
  | { readonly kind: "camera" }
  | { readonly kind: "camera-option" }
  | { readonly kind: "command" };

/** A camera control as `--control NAME=VALUE` gives it (checked against the camera later). */
export interface ControlSetting {
  readonly name: string;
  readonly value: string;
}

/** `--camera NAME=SOURCE`. */
export interface CameraEntry {
  readonly name: string;
  readonly source: string;
}

/** `--camera-option NAME.KEY=VALUE`, before the value is parsed by KEY's own rule. */
export interface CameraOption {
  readonly camera: string;
  readonly key: string;
  readonly raw: string;
}

/** The frame-rate rule: above 0, at most 120. */
export const FPS_RULE: NumberRule = {
  min: 0,
  minExclusive: true,
  max: 120,
  expected: "a number greater than 0 and at most 120, or native",
};

/** Camera names: letters, digits, `-` and `_`, as they appear in URLs (`/NAME/stream`). */
export const CAMERA_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** Names that would hide a route of the server if a camera took them. */
export const RESERVED_NAMES: readonly string[] = [
  "stream",
  "snapshot",
  "snapshot.jpg",
  "snapshot.png",
  "state",
  "healthz",
  "metrics",
  "pause",
  "resume",
  "controls",
  "cameras",
];

const OVERLAY_EXPECTED = "a comma-separated list of fps, time and text=LABEL, or none";

/** Parses `--overlay fps,time,text=LABEL` (text= takes the rest, commas included). */
export function parseOverlay(raw: string, label: string): OverlayOptions | null {
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed.toLowerCase() === "none") return null;
  let fps = false;
  let time = false;
  let text: string | undefined;
  let rest = trimmed;
  let any = false;
  while (rest !== "") {
    const item = rest.replace(/^\s+/, "");
    if (item.toLowerCase().startsWith("text=")) {
      const value = item.slice("text=".length);
      if (value.trim() === "") {
        throw invalidValue(TypeError, label, raw, `${OVERLAY_EXPECTED} (text= needs a label)`);
      }
      text = value;
      any = true;
      break;
    }
    const comma = item.indexOf(",");
    const word = (comma === -1 ? item : item.slice(0, comma)).trim().toLowerCase();
    rest = comma === -1 ? "" : item.slice(comma + 1);
    if (word === "fps") fps = true;
    else if (word === "time") time = true;
    // A stray comma ("fps,,time" or "fps,") is a harmless typo, not worth failing over.
    else if (word !== "") {
      throw invalidValue(
        TypeError,
        label,
        raw,
        `${OVERLAY_EXPECTED} (unknown item ${showValue(word)})`,
      );
    } else continue;
    any = true;
  }
  if (!any) return null;
  return text === undefined ? { fps, time } : { fps, time, text };
}

/** Parses `--cors`: `*` or an http(s) origin, normalised. */
export function parseCors(raw: string, label: string): string {
  const expected = `"*" or an origin such as https://example.com`;
  if (raw === "*") return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidValue(TypeError, label, raw, expected);
  }
  // An origin is scheme + host + port only: browsers compare the header byte for byte.
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password ||
    url.pathname !== "/" || url.search || url.hash || raw.endsWith("?") || raw.endsWith("#")
  ) {
    throw invalidValue(TypeError, label, raw, expected);
  }
  return url.origin;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses `--host`: an IPv4 address (each part 0..255), an IPv6 address, or a host name. Whether
 * it can be listened on is found out when listening (and reported naming `--host`).
 */
export function parseHost(raw: string, label: string): string {
  const expected = "an IP address such as 0.0.0.0 or 127.0.0.1, or a host name";
  const v4 = IPV4.exec(raw);
  if (v4) {
    if (v4.slice(1).some((p) => Number(p) > 255)) {
      throw invalidValue(RangeError, label, raw, expected);
    }
    return raw;
  }
  const bare = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (bare.includes(":")) {
    try {
      new URL(`http://[${bare}]/`);
      return bare;
    } catch {
      throw invalidValue(TypeError, label, raw, expected);
    }
  }
  // All-digit labels ("999.1.1") are not names anyone means.
  if (!HOSTNAME.test(raw) || /^[\d.]+$/.test(raw)) {
    throw invalidValue(TypeError, label, raw, expected);
  }
  return raw;
}

/** Parses a secret without ever putting its value into a message. */
export function parseSecret(raw: string, label: string): string {
  if (raw === "") throw new TypeError(`Invalid ${label}: expected a non-empty value`);
  return raw;
}

/** Parses `--user`: basic auth joins user and password with ":", so no colon. */
export function parseUser(raw: string, label: string): string {
  if (raw === "" || raw.includes(":")) {
    throw invalidValue(TypeError, label, raw, "a non-empty user name without a colon");
  }
  return raw;
}

/** Parses `--control NAME=VALUE`. */
export function parseControl(raw: string, label: string): ControlSetting {
  const m = /^([A-Za-z0-9_]+)=(.+)$/.exec(raw.trim());
  if (!m) throw invalidValue(TypeError, label, raw, "NAME=VALUE, for example brightness=140");
  return { name: m[1], value: m[2].trim() };
}

/** Parses `--camera NAME=SOURCE`. */
export function parseCamera(raw: string, label: string): CameraEntry {
  const eq = raw.indexOf("=");
  const name = eq === -1 ? "" : raw.slice(0, eq);
  const source = eq === -1 ? "" : raw.slice(eq + 1);
  const expected =
    "NAME=SOURCE with a NAME of letters, digits, - and _ (for example nozzle=/dev/video0)";
  if (!CAMERA_NAME.test(name) || source === "") throw invalidValue(TypeError, label, raw, expected);
  if (RESERVED_NAMES.includes(name.toLowerCase())) {
    throw invalidValue(TypeError, label, raw, `${expected}; ${name} is a route of its own`);
  }
  return { name, source };
}

/** Parses `--camera-option NAME.KEY=VALUE` (VALUE is checked by KEY's own rule later). */
export function parseCameraOption(raw: string, label: string): CameraOption {
  const m = /^([A-Za-z0-9_-]{1,32})\.([a-z-]+)=(.*)$/s.exec(raw);
  if (!m) {
    throw invalidValue(
      TypeError,
      label,
      raw,
      "NAME.OPTION=VALUE, for example nozzle.size=1280x720",
    );
  }
  return { camera: m[1], key: m[2], raw: m[3] };
}

/**
 * Splits a hook's command line into program and arguments, without a shell: words are split on
 * spaces; single quotes keep everything literally, double quotes keep spaces, a backslash keeps
 * the next character.
 */
export function parseCommandLine(raw: string, label: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (ch === "\\" && i + 1 < raw.length && quote !== null) {
      // Inside double quotes only \" and \\ are escapes, as in a shell.
      const next = raw[i + 1];
      if (next === '"' || next === "\\") {
        word += next;
        i++;
      } else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < raw.length) {
      word += raw[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw invalidValue(TypeError, label, raw, `a command line (a ${quote} is not closed)`);
  if (inWord) words.push(word);
  if (words.length === 0) {
    throw invalidValue(TypeError, label, raw, "a program to run, with its arguments");
  }
  return words;
}

/** `native` (the source's own) or a value. */
function nativeOr<T>(raw: string, parse: () => T): T | null {
  return raw.toLowerCase() === "native" ? null : parse();
}

/** Reads one flag value by its kind. */
export function parseValue(kind: ValueKind, raw: string, label: string): unknown {
  switch (kind.kind) {
    case "number":
      return parseNumber(raw, label, kind.rule);
    case "size":
      return nativeOr<Size>(raw, () => parseSize(raw, label));
    case "fps":
      return nativeOr(raw, () => parseNumber(raw, label, FPS_RULE));
    case "choice":
      return parseChoice(raw, label, kind.choices);
    case "rotation": {
      const n = parseChoice(raw, label, ROTATIONS.map(String));
      return Number(n) as Rotation;
    }
    case "flip":
      return parseChoice<Flip>(raw, label, FLIPS);
    case "boolean":
      return parseBoolean(raw, label);
    case "text":
      return parseNonEmpty(raw, label, kind.expected);
    case "secret":
      return parseSecret(raw, label);
    case "user":
      return parseUser(raw, label);
    case "host":
      return parseHost(raw, label);
    case "cors":
      return parseCors(raw, label);
    case "overlay":
      return parseOverlay(raw, label);
    case "control":
      return parseControl(raw, label);
    case "camera":
      return parseCamera(raw, label);
    case "camera-option":
      return parseCameraOption(raw, label);
    case "command":
      return parseCommandLine(raw, label);
  }
}
