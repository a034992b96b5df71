/**
 * `--fps` below a source's own rate, where no encoder runs to drop frames (JPEGs passed
 * through): frames that come sooner than the period allows are skipped.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { SourceFrame } from "../core/frame.ts";

/** `frames` with at most `fps` frames a second (all of them when `fps` is null). */
export async function* capFrameRate(
  frames: AsyncIterable<SourceFrame>,
  fps: number | null,
  clock: Clock,
): AsyncGenerator<SourceFrame> {
  if (!fps) return yield* frames;
  const period = 1000 / fps;
  let due = -Infinity;
  for await (const frame of frames) {
    const now = clock.now();
    // A tenth of a period of slack, so that a source at exactly the capped rate is not halved
    // by jitter.
    if (now < due - period * 0.1) continue;
    // Keep the cadence while frames keep coming; start it again after a gap.
    due = (now - due < period ? due : now) + period;
    yield frame;
  }
}
