import { strict as assert } from "node:assert";
import {
  compareEnds,
  mean,
  percentile,
  percentileSorted,
  ratio,
  slope,
  sum,
  summarize,
} from "../bench/stats.ts";

Deno.test("percentile interpolates between ranks like numpy", () => {
  assert.equal(percentile([1, 2], 50), 1.5);
  assert.equal(percentile([3, 1, 2], 50), 2);
  assert.equal(percentile([10, 20, 30, 40, 50], 0), 10);
  assert.equal(percentile([10, 20, 30, 40, 50], 100), 50);
  assert.equal(percentile([10, 20, 30, 40, 50], 95), 48);
  assert.equal(percentile([7], 99), 7);
});

Deno.test("percentile ignores non-finite samples and is NaN when empty", () => {
  assert.equal(percentile([NaN, 4, Infinity, 2], 50), 3);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.ok(Number.isNaN(percentileSorted([], 50)));
});

Deno.test("percentile rejects p outside 0..100", () => {
  assert.throws(() => percentile([1, 2], 101), RangeError);
  assert.throws(() => percentile([1, 2], -1), RangeError);
});

Deno.test("percentile does not mutate its input", () => {
  const values = [3, 1, 2];
  percentile(values, 50);
  assert.deepEqual(values, [3, 1, 2]);
});

Deno.test("mean, sum and ratio handle the edge cases", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.ok(Number.isNaN(mean([])));
  assert.equal(sum([]), 0);
  assert.equal(sum([1, NaN, 2]), 3);
  assert.equal(ratio(3, 2), 1.5);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 2)));
});

Deno.test("summarize gives count, extremes, mean and tail percentiles", () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  const s = summarize(values);
  assert.equal(s.count, 100);
  assert.equal(s.min, 1);
  assert.equal(s.max, 100);
  assert.equal(s.mean, 50.5);
  assert.equal(s.p50, 50.5);
  assert.ok(Math.abs(s.p95 - 95.05) < 1e-9);
  assert.ok(Math.abs(s.p99 - 99.01) < 1e-9);
  const empty = summarize([]);
  assert.equal(empty.count, 0);
  assert.ok(Number.isNaN(empty.p50));
});

Deno.test("compareEnds compares the medians of both ends without overlap", () => {
  const growing = [0.1, 0.2, 0.1, 0.2, 0.1, 1, 2, 3, 4, 5, 6, 7];
  const ends = compareEnds(growing, 5);
  assert.equal(ends.k, 5);
  assert.equal(ends.first, 0.1);
  assert.equal(ends.last, 5);
  assert.ok(Math.abs(ends.delta - 4.9) < 1e-9);
  // Three samples: k shrinks to 1 so the ends stay disjoint.
  const short = compareEnds([1, 5, 9], 5);
  assert.equal(short.k, 1);
  assert.equal(short.first, 1);
  assert.equal(short.last, 9);
  assert.equal(compareEnds([1], 5).k, 0);
});

Deno.test("slope fits a least-squares line and skips missing points", () => {
  assert.equal(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.equal(slope([0, 1, 2], [4, 4, 4]), 0);
  assert.ok(Math.abs(slope([0, 1, 2, 3], [0, 1, NaN, 3]) - 1) < 1e-9);
  assert.ok(Number.isNaN(slope([1], [1])));
  assert.ok(Number.isNaN(slope([2, 2], [1, 5])));
});
