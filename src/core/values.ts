/**
 * The value rules shared by every input: command-line flags, `TUCHUAN_*` variables and HTTP query
 * parameters all go through these parsers, so `--fps 0x10`, `TUCHUAN_FPS=0x10` and
 * `/stream?fps=0x10` are refused alike, and a boolean means the same words everywhere.
 *
 * Each parser takes the raw text and a `label` (`--fps`, `TUCHUAN_FPS`, `fps`) and throws a
 * `TypeError` (wrong shape) or a `RangeError` (out of range) whose message names the label and
 * the value.
 *
 * @module
 */
import type { Size } from "./frame.ts";

/** Quotes a value for an error message, escaping control characters and capping its length. */
export function showValue(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}

/** The error for a value that does not fit its rule. */
export function invalidValue(
  ErrorClass: TypeErrorConstructor | RangeErrorConstructor,
  label: string,
  raw: string,
  expected: string,
): Error {
  return new ErrorClass(`Invalid ${label} ${showValue(raw)}: expected ${expected}`);
}

/** A decimal number: no exponent, hex or surrounding spaces (which `Number()` would accept). */
const NUMBER_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** What a number must be. */
export interface NumberRule {
  readonly min: number;
  readonly max: number;
  /** `min` itself is not allowed. */
  readonly minExclusive?: boolean;
  readonly integer?: boolean;
  /** Completes "expected …" in error messages. */
  readonly expected: string;
}

/** Parses a decimal number within `rule`. */
export function parseNumber(raw: string, label: string, rule: NumberRule): number {
  if (!NUMBER_PATTERN.test(raw)) throw invalidValue(TypeError, label, raw, rule.expected);
  const value = Number(raw);
  const belowMin = rule.minExclusive ? value <= rule.min : value < rule.min;
  if (
    !Number.isFinite(value) || belowMin || value > rule.max ||
    (rule.integer && !Number.isInteger(value))
  ) {
    throw invalidValue(RangeError, label, raw, rule.expected);
  }
  // Normalises "-0" and "+5".
  return value + 0;
}

/** Smallest and largest frame side. */
export const MIN_SIDE = 16;
/** Largest frame side (8K). */
export const MAX_SIDE = 7680;
const SIZE_PATTERN = /^(\d+)[xX](\d+)$/;

/** Parses `WIDTHxHEIGHT`. */
export function parseSize(raw: string, label: string): Size {
  const expected = `WIDTHxHEIGHT with each side from ${MIN_SIDE} to ${MAX_SIDE} pixels`;
  const match = SIZE_PATTERN.exec(raw);
  if (!match) throw invalidValue(TypeError, label, raw, expected);
  const width = Number(match[1]);
  const height = Number(match[2]);
  if ([width, height].some((side) => side < MIN_SIDE || side > MAX_SIDE)) {
    throw invalidValue(RangeError, label, raw, expected);
  }
  return { width, height };
}

/** Parses one of `choices`, case-insensitively (env files often say INFO or FFMPEG). */
export function parseChoice<T extends string>(
  raw: string,
  label: string,
  choices: readonly T[],
): T {
  const lower = raw.toLowerCase();
  const found = choices.find((choice) => choice === lower);
  if (found === undefined) {
    throw invalidValue(TypeError, label, raw, `one of ${choices.join(", ")}`);
  }
  return found;
}

/** The words a boolean accepts, everywhere. */
export const TRUE_WORDS: readonly string[] = ["true", "1", "yes", "on"];
/** The words a boolean accepts as false, everywhere. */
export const FALSE_WORDS: readonly string[] = ["false", "0", "no", "off"];

/** Parses a boolean from exactly the words the message lists. */
export function parseBoolean(raw: string, label: string): boolean {
  const lower = raw.toLowerCase();
  if (TRUE_WORDS.includes(lower)) return true;
  if (FALSE_WORDS.includes(lower)) return false;
  throw invalidValue(
    TypeError,
    label,
    raw,
    `one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(", ")}`,
  );
}

/** Refuses an empty value; `what` completes "expected …". */
export function parseNonEmpty(raw: string, label: string, what: string): string {
  if (raw === "") throw invalidValue(TypeError, label, raw, what);
  return raw;
}
