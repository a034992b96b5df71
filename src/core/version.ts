/**
 * The version, read from `deno.json` so that it lives in one place.
 *
 * @module
 */
import meta from "../../deno.json" with { type: "json" };

/** The tuchuan version, as `--version`, `/state` and the banner print it. */
export const VERSION: string = meta.version;
