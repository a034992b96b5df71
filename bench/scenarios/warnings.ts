/**
 * The warnings a load window can raise: broken parts, failed clients, and a load client that used
 * so much CPU that the numbers may describe the client rather than the server.
 *
 * @module
 */
import type { WindowMeasurement } from "../load_window.ts";

/** Share of one core above which the single-threaded load client may be the bottleneck. */
const CLIENT_BOUND_SHARE = 0.85;

/** Warnings about one server's window, prefixed with the server's name. */
export function loadWarnings(kind: string, m: WindowMeasurement): string[] {
  const out: string[] = [];
  if (m.load.badParts > 0) out.push(`${kind}: ${m.load.badParts} bad parts`);
  if (m.load.connected < m.load.clients) {
    out.push(`${kind}: ${m.load.clients - m.load.connected} of ${m.load.clients} clients failed`);
  }
  for (const p of m.load.problems.slice(0, 3)) out.push(`${kind}: ${p}`);
  if (m.benchCpuShare > CLIENT_BOUND_SHARE) {
    out.push(
      `${kind}: the load client used ${Math.round(m.benchCpuShare * 100)}% of a core; ` +
        "fps/latency may be limited by the client, not the server",
    );
  }
  return out;
}
