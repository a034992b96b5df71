import assert from "node:assert/strict";
import { FpsMeter } from "../src/core/fps_meter.ts";

Deno.test("FpsMeter measures the delivered rate over one-second windows", () => {
  const m = new FpsMeter();
  for (let t = 0; t <= 3000; t += 40) m.tick(t);
  assert.ok(Math.abs(m.fps(3000) - 25) < 0.5, `got ${m.fps(3000)}`);
});

Deno.test("FpsMeter estimates before the first full window and falls to 0 when frames stop", () => {
  const m = new FpsMeter();
  m.tick(0);
  m.tick(100);
  m.tick(200);
  assert.equal(m.fps(200), 10);
  assert.equal(m.fps(5000), 0);
});
