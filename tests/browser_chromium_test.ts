/**
 * The viewer page and a bare `<img>` in Chromium (see browser_scenarios.ts for what is checked and
 * how). Skipped, saying what to install, where the browser is missing.
 *
 * @module
 */
import { browserTests } from "./browser_scenarios.ts";

Deno.test(browserTests("chromium"));
