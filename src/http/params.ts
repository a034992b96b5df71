/**
 * Query parameters, read with the same rules as flags and variables (core/values.ts): `?fps=0x10`
 * is refused like `--fps 0x10`, and booleans take the same words.
 *
 * @module
 */
import { type NumberRule, parseBoolean, parseNumber } from "../core/values.ts";
import { BadParam } from "./http_errors.ts";

/** A number parameter within `rule`, or null when absent. Throws {@link BadParam}. */
export function numberParam(url: URL, name: string, rule: NumberRule): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return null;
  try {
    return parseNumber(raw, name, rule);
  } catch (err) {
    throw new BadParam(name, (err as Error).message, { cause: err });
  }
}

/** A boolean parameter, or null when absent. Throws {@link BadParam}. */
export function flagParam(url: URL, name: string): boolean | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return null;
  try {
    return parseBoolean(raw, name);
  } catch (err) {
    throw new BadParam(name, (err as Error).message, { cause: err });
  }
}
