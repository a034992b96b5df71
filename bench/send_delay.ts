/**
 * The server's own share of latency, from tuchuan's `/metrics`: the
 * `tuchuan_send_delay_seconds` histogram (capture until each part was written to each viewer's
 * connection), read before and after a window. With hundreds of viewers the load client, one
 * thread parsing thousands of parts a second, adds its own queueing to the latency it sees;
 * this tells the two apart.
 *
 * @module
 */
import { rawGetText } from "./raw_http.ts";

/** Cumulative bucket counts by upper bound (seconds; Infinity last). */
export type DelayHistogram = readonly { readonly le: number; readonly count: number }[];

const BUCKET = /^tuchuan_send_delay_seconds_bucket\{camera="([^"]*)",le="([^"]+)"\} (\d+)$/;

/** The first camera's send-delay histogram in a `/metrics` text; null when it has none. */
export function parseSendDelay(text: string): DelayHistogram | null {
  const out: { le: number; count: number }[] = [];
  let camera: string | null = null;
  for (const line of text.split("\n")) {
    const m = BUCKET.exec(line);
    if (!m) continue;
    camera ??= m[1];
    if (m[1] !== camera) continue;
    out.push({ le: m[2] === "+Inf" ? Infinity : Number(m[2]), count: Number(m[3]) });
  }
  return out.length > 0 ? out : null;
}

/** The histogram of tuchuan on `port` now, or null (not tuchuan, or unreadable). */
export async function readSendDelay(port: number): Promise<DelayHistogram | null> {
  try {
    const res = await rawGetText(port, "/metrics", 3000);
    return res.status === 200 ? parseSendDelay(res.text) : null;
  } catch {
    return null;
  }
}

/** Quantiles of what was observed between two readings, in ms (linear within a bucket). */
export interface DelayQuantiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Parts observed in between. */
  readonly count: number;
}

/**
 * The quantiles of the observations between `before` and `after`; null without any. A quantile
 * in the last, open bucket is given as its lower bound.
 */
export function delayQuantiles(
  before: DelayHistogram,
  after: DelayHistogram,
): DelayQuantiles | null {
  if (before.length !== after.length) return null;
  const counts = after.map((b, i) => ({ le: b.le, count: b.count - before[i].count }));
  const total = counts.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const q = (p: number): number => {
    const rank = p * total;
    let lower = 0;
    let below = 0;
    for (const { le, count } of counts) {
      if (count >= rank) {
        if (!Number.isFinite(le)) return lower * 1000;
        const inBucket = count - below;
        const frac = inBucket > 0 ? (rank - below) / inBucket : 0;
        return (lower + (le - lower) * frac) * 1000;
      }
      lower = le;
      below = count;
    }
    return lower * 1000;
  };
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), count: total };
}
