import assert from "node:assert/strict";
import { delayQuantiles, parseSendDelay } from "../bench/send_delay.ts";

const exposition = (counts: number[]) =>
  [
    "# HELP tuchuan_send_delay_seconds From a frame's capture to its part handed to a viewer.",
    "# TYPE tuchuan_send_delay_seconds histogram",
    ...["0.001", "0.002", "0.005", "+Inf"].map((le, i) =>
      `tuchuan_send_delay_seconds_bucket{camera="default",le="${le}"} ${counts[i]}`
    ),
    `tuchuan_send_delay_seconds_bucket{camera="other",le="0.001"} 999`,
    `tuchuan_send_delay_seconds_count{camera="default"} ${counts[3]}`,
  ].join("\n");

Deno.test("the send-delay histogram is read from /metrics, first camera only", () => {
  assert.deepEqual(parseSendDelay(exposition([1, 2, 3, 4])), [
    { le: 0.001, count: 1 },
    { le: 0.002, count: 2 },
    { le: 0.005, count: 3 },
    { le: Infinity, count: 4 },
  ]);
  assert.equal(parseSendDelay("tuchuan_clients 1\n"), null);
});

Deno.test("quantiles of a window come from the difference of two readings, linear in a bucket", () => {
  const before = parseSendDelay(exposition([100, 100, 100, 100]))!;
  // 100 parts in the window: 50 under 1 ms, 40 in 1-2 ms, 10 in 2-5 ms.
  const after = parseSendDelay(exposition([150, 190, 200, 200]))!;
  const q = delayQuantiles(before, after)!;
  assert.equal(q.count, 100);
  assert.equal(q.p50, 1);
  assert.ok(Math.abs(q.p95 - 3.5) < 1e-9, `p95 ${q.p95}`);
  assert.ok(Math.abs(q.p99 - 4.7) < 1e-9, `p99 ${q.p99}`);
  assert.equal(delayQuantiles(before, before), null, "nothing observed: no quantiles");
  const open = parseSendDelay(exposition([100, 100, 100, 110]))!;
  assert.equal(delayQuantiles(before, open)!.p95, 5, "the open bucket gives its lower bound");
});
