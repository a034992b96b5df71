import assert from "node:assert/strict";
import { windowCpu } from "../bench/proc_stats.ts";

const reading = (tickSeconds: number, threads: Record<string, number>) => ({
  tickSeconds,
  ns: new Map(Object.entries(threads)),
});

Deno.test("a window's CPU comes from the threads' run times, finer than stat's 10 ms ticks", () => {
  // 0.2345 s of run time on two threads; the ticks saw 0.23 s.
  const cpu = windowCpu(
    reading(1.0, { "10/10": 0.6e9, "10/11": 0.1e9 }),
    reading(1.23, { "10/10": 0.8e9, "10/11": 0.1345e9 }),
  );
  assert.equal(cpu.precise, true);
  assert.ok(Math.abs(cpu.seconds - 0.2345) < 1e-9, String(cpu.seconds));
});

Deno.test("a window's CPU falls back to the ticks when a thread ended inside it", () => {
  // Thread 12 ran 0.3 s in the window and exited: its run time is gone, the ticks kept it.
  const cpu = windowCpu(
    reading(1.0, { "10/10": 0.6e9, "10/12": 0.2e9 }),
    reading(1.5, { "10/10": 0.8e9 }),
  );
  assert.deepEqual(cpu, { seconds: 0.5, precise: false });
});

Deno.test("a window's CPU allows the two clocks a tick per process of disagreement", () => {
  // Two processes (a server and its ffmpeg child), each rounded down by nearly a tick.
  const cpu = windowCpu(
    reading(0, { "10/10": 0, "20/20": 0 }),
    reading(0.5, { "10/10": 0.2e9, "20/20": 0.28e9 }),
  );
  assert.equal(cpu.precise, true);
  assert.ok(Math.abs(cpu.seconds - 0.48) < 1e-9);
});
