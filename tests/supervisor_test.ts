/**
 * Supervisor unit tests: restart backoff (0.5 s doubling to 10 s, reset after a healthy
 * minute), the watchdog that aborts a source that stops yielding, and the offline reason.
 * Time is a FakeClock; the source is scripted run by run from the test.
 */
import assert from "node:assert/strict";
import type { SourceFrame } from "../src/core/frame.ts";
import { type Source, SourceError } from "../src/source/source.ts";
import { defaultTiming, Supervisor, type SupervisorTiming } from "../src/pipeline/supervisor.ts";
import { FakeClock } from "./test_utils.ts";

/** One call of `frames()`: the test pushes frames into it and ends or fails it. */
class Run {
  readonly #queue: (SourceFrame | { end: true } | { error: Error })[] = [];
  #wake: (() => void) | null = null;
  /** Set once the generator has returned or thrown (the supervisor let go of it). */
  finished = false;

  constructor(readonly signal: AbortSignal) {
    signal.addEventListener("abort", () => this.#poke(), { once: true });
  }

  /** Delivers one frame. */
  frame(at: number): void {
    this.#queue.push({
      kind: "jpeg",
      width: 2,
      height: 2,
      data: new Uint8Array(4),
      capturedAt: at,
    });
    this.#poke();
  }

  /** Ends the run normally (the input ended). */
  end(): void {
    this.#queue.push({ end: true });
    this.#poke();
  }

  /** Fails the run with `message`. */
  fail(message: string): void {
    this.#queue.push({ error: new SourceError(message) });
    this.#poke();
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async *frames(): AsyncGenerator<SourceFrame> {
    try {
      for (;;) {
        // Like a real source, an abort ends the run quietly.
        if (this.signal.aborted) return;
        const item = this.#queue.shift();
        if (!item) {
          await new Promise<void>((resolve) => this.#wake = resolve);
          continue;
        }
        if ("end" in item) return;
        if ("error" in item) throw item.error;
        yield item;
      }
    } finally {
      this.finished = true;
    }
  }
}

/** A Source whose every `frames()` call is a new `Run` the test drives. */
class ScriptedSource implements Source {
  readonly kind = "testsrc" as const;
  readonly input = "scripted";
  readonly offer = null;
  readonly runs: Run[] = [];

  facts() {
    return {};
  }

  frames(signal: AbortSignal): AsyncIterable<SourceFrame> {
    const run = new Run(signal);
    this.runs.push(run);
    return run.frames();
  }
}

/** Lets pending promise callbacks run (no time passes on the fake clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Waits, bounded, until `cond` holds, letting microtasks and macrotasks run. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.fail(`timed out waiting for ${what}`);
}

interface Harness {
  clock: FakeClock;
  source: ScriptedSource;
  supervisor: Supervisor;
  events: string[];
  delays: number[];
  offline: string[];
  frames: number;
}

const TIMING: SupervisorTiming = defaultTiming(10);

function harness(timing: SupervisorTiming = TIMING): Harness {
  const clock = new FakeClock();
  const source = new ScriptedSource();
  const h: Harness = {
    clock,
    source,
    events: [],
    delays: [],
    offline: [],
    frames: 0,
    supervisor: null as unknown as Supervisor,
  };
  h.supervisor = new Supervisor(source, {
    onFrame: () => h.frames++,
    onOnline: () => h.events.push("online"),
    onOffline: (reason) => {
      h.events.push("offline");
      h.offline.push(reason);
    },
    onRestart: (_attempt, delay) => h.delays.push(delay),
  }, { clock, timing });
  return h;
}

/** Fails the current run at once and returns the restart delay the supervisor chose. */
async function failRun(h: Harness, message: string): Promise<number> {
  const n = h.source.runs.length;
  h.source.runs[n - 1].fail(message);
  await until(() => h.delays.length === n, `restart ${n} scheduled`);
  return h.delays[n - 1];
}

Deno.test("default timing: 0.5 s doubling to 10 s, a healthy minute, watchdog of 3 periods or 2 s", () => {
  const t = defaultTiming(30);
  assert.equal(t.initialBackoffMs, 500);
  assert.equal(t.maxBackoffMs, 10_000);
  assert.equal(t.healthyMs, 60_000);
  assert.equal(t.watchdogMs, 2000);
  // A slow source (0.5 fps) gets three frame periods before it counts as stalled.
  assert.equal(defaultTiming(0.5).watchdogMs, 6000);
});

Deno.test("failing source restarts after 0.5 s, 1 s, 2 s ... capped at 10 s", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  const expected = [500, 1000, 2000, 4000, 8000, 10_000, 10_000];
  for (const [i, delay] of expected.entries()) {
    assert.equal(await failRun(h, `boom ${i}`), delay);
    // Not a moment early: one millisecond before the delay there is still no new run.
    await h.clock.advance(delay - 1);
    await settle();
    assert.equal(h.source.runs.length, i + 1, `run ${i + 2} started before its ${delay} ms delay`);
    await h.clock.advance(1);
    await until(() => h.source.runs.length === i + 2, `run ${i + 2}`);
  }
  assert.equal(h.supervisor.restarts, expected.length);
  await h.supervisor.stop();
});

Deno.test("offline reason is the source's error message; online again with the next frame", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  assert.equal(h.supervisor.online, false);
  // Starting is not an outage: no reason to give yet.
  assert.equal(h.supervisor.state, "starting");
  assert.equal(h.supervisor.reason, "");
  h.source.runs[0].frame(h.clock.now());
  await until(() => h.frames === 1, "first frame");
  assert.equal(h.supervisor.online, true);
  assert.equal(h.supervisor.state, "online");
  assert.equal(h.supervisor.reason, "");
  await failRun(h, "ffmpeg failed: /dev/video0: No such device");
  assert.equal(h.supervisor.online, false);
  assert.equal(h.supervisor.state, "offline");
  assert.equal(h.supervisor.reason, "ffmpeg failed: /dev/video0: No such device");
  assert.deepEqual(h.offline, ["ffmpeg failed: /dev/video0: No such device"]);
  // A source that simply ends is offline too, with a reason that says so.
  await h.clock.advance(500);
  await until(() => h.source.runs.length === 2, "second run");
  h.source.runs[1].frame(h.clock.now());
  await until(() => h.frames === 2, "frame after restart");
  assert.equal(h.supervisor.online, true);
  h.source.runs[1].end();
  await until(() => h.offline.length === 2, "offline after end");
  assert.equal(h.offline[1], "The source ended");
  assert.deepEqual(h.events, ["online", "offline", "online", "offline"]);
  await h.supervisor.stop();
});

Deno.test("a run that delivered frames for a minute resets the backoff; a shorter one does not", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  // Three quick failures: 0.5 s, 1 s, 2 s.
  for (const delay of [500, 1000, 2000]) {
    assert.equal(await failRun(h, "flaky"), delay);
    const n = h.source.runs.length;
    await h.clock.advance(delay);
    await until(() => h.source.runs.length === n + 1, "next run");
  }
  // 30 s of frames: not healthy long enough, the backoff keeps doubling.
  const feed = async (seconds: number) => {
    const run = h.source.runs.at(-1)!;
    for (let s = 0; s <= seconds; s++) {
      run.frame(h.clock.now());
      const want = h.frames + 1;
      await until(() => h.frames === want, "frame delivered");
      await h.clock.advance(1000);
    }
  };
  await feed(30);
  assert.equal(await failRun(h, "flaky"), 4000);
  let n = h.source.runs.length;
  await h.clock.advance(4000);
  await until(() => h.source.runs.length === n + 1, "next run");
  // A healthy minute: the next failure restarts after 0.5 s again.
  await feed(61);
  assert.equal(await failRun(h, "flaky"), 500);
  n = h.source.runs.length;
  await h.clock.advance(500);
  await until(() => h.source.runs.length === n + 1, "next run");
  await h.supervisor.stop();
});

Deno.test("watchdog aborts a source that stops yielding and restarts it", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  const run = h.source.runs[0];
  run.frame(h.clock.now());
  await until(() => h.frames === 1, "first frame");
  // The source hangs: no frame, no error. Just before the watchdog it is still trusted.
  await h.clock.advance(TIMING.watchdogMs - 1);
  await settle();
  assert.equal(run.signal.aborted, false);
  assert.equal(h.supervisor.online, true);
  await h.clock.advance(1);
  await until(() => run.finished, "hung run released");
  assert.equal(run.signal.aborted, true);
  assert.equal(h.supervisor.online, false);
  assert.match(h.supervisor.reason, /No frame from the source for 2\.0 s/);
  assert.deepEqual(h.delays, [500]);
  await h.clock.advance(500);
  await until(() => h.source.runs.length === 2, "restart after the watchdog");
  await h.supervisor.stop();
});

Deno.test("watchdog gives a starting source the longer startup grace", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  const run = h.source.runs[0];
  // Opening a camera or a network stream may take longer than the frame watchdog.
  await h.clock.advance(TIMING.startupMs - 1);
  await settle();
  assert.equal(run.signal.aborted, false, "aborted before the startup grace ran out");
  await h.clock.advance(1);
  await until(() => run.finished, "silent run released");
  assert.match(h.supervisor.reason, /No frame from the source for 5\.0 s/);
  await h.supervisor.stop();
});

Deno.test("a source that never yields a frame is tried less and less often, up to once a minute", async () => {
  const h = harness();
  h.supervisor.start();
  // Each run stays silent through the startup grace (an ffmpeg looping over a file with no
  // frames, at full speed): the backoff goes on doubling past the usual 10 s, up to 60 s.
  const expected = [500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000];
  for (const [i, delay] of expected.entries()) {
    await until(() => h.source.runs.length === i + 1, `run ${i + 1}`);
    await h.clock.advance(TIMING.startupMs);
    await until(() => h.delays.length === i + 1, `restart ${i + 1} scheduled`);
    assert.equal(h.delays[i], delay);
    await h.clock.advance(delay);
  }
  await h.supervisor.stop();
});

Deno.test("stop() aborts the running source and schedules no restart", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  h.source.runs[0].frame(h.clock.now());
  await until(() => h.frames === 1, "first frame");
  await h.supervisor.stop();
  assert.equal(h.source.runs[0].finished, true);
  assert.equal(h.supervisor.running, false);
  assert.equal(h.supervisor.online, false);
  assert.deepEqual(h.delays, [], "a stop is not a failure");
  assert.deepEqual(h.offline, []);
  assert.equal(h.clock.pending, 0, "a timer survived stop()");
  await h.clock.advance(60_000);
  assert.equal(h.source.runs.length, 1);
  // And it can start again (idle -> new viewer).
  h.supervisor.start();
  await until(() => h.source.runs.length === 2, "second start");
  await h.supervisor.stop();
});

Deno.test("stop() during the backoff wait ends at once", async () => {
  const h = harness();
  h.supervisor.start();
  await until(() => h.source.runs.length === 1, "first run");
  await failRun(h, "boom");
  await h.supervisor.stop();
  assert.equal(h.clock.pending, 0);
  await h.clock.advance(10_000);
  assert.equal(h.source.runs.length, 1, "restarted after stop()");
});

/** A source that pushes its frames (as a folder does): each `push()` call is a run the test drives. */
class PushingSource implements Source {
  readonly kind = "folder" as const;
  readonly input = "pushing";
  readonly offer = null;
  readonly runs: {
    signal: AbortSignal;
    onFrame: (frame: SourceFrame) => void;
    done: PromiseWithResolvers<void>;
  }[] = [];
  iterated = 0;

  facts() {
    return {};
  }

  frames(): AsyncIterable<SourceFrame> {
    this.iterated++;
    return (async function* () {})();
  }

  push(signal: AbortSignal, onFrame: (frame: SourceFrame) => void): Promise<void> {
    const done = Promise.withResolvers<void>();
    // Like folderPush: a stop (the supervisor's or the watchdog's) ends the run quietly.
    signal.addEventListener("abort", () => done.resolve(), { once: true });
    this.runs.push({ signal, onFrame, done });
    return done.promise;
  }
}

Deno.test("a source that pushes its frames is not iterated; its failure and its silence restart it", async () => {
  const clock = new FakeClock();
  const source = new PushingSource();
  const events: string[] = [];
  let frames = 0;
  const supervisor = new Supervisor(source, {
    onFrame: () => frames++,
    onOnline: () => events.push("online"),
    onOffline: (reason) => events.push(`offline: ${reason}`),
  }, { clock, timing: TIMING });
  supervisor.start();
  await until(() => source.runs.length === 1, "the first push");
  const frame = (at: number): SourceFrame => ({
    kind: "jpeg",
    width: 2,
    height: 2,
    data: new Uint8Array(4),
    capturedAt: at,
  });
  source.runs[0].onFrame(frame(clock.now()));
  source.runs[0].onFrame(frame(clock.now()));
  assert.equal(frames, 2);
  assert.equal(supervisor.state, "online");
  // It fails: offline with its reason, a new push after the backoff.
  source.runs[0].done.reject(new SourceError("Folder /x holds no readable JPEG"));
  await until(() => events.length === 2, "offline");
  assert.deepEqual(events, ["online", "offline: Folder /x holds no readable JPEG"]);
  await clock.advance(TIMING.initialBackoffMs);
  await until(() => source.runs.length === 2, "the second push");
  // It falls silent: the watchdog aborts it, and the run ends.
  source.runs[1].onFrame(frame(clock.now()));
  await clock.advance(TIMING.watchdogMs);
  await until(() => events.length === 4, "offline for silence");
  assert.equal(source.runs[1].signal.aborted, true);
  assert.match(events[3], /^offline: No frame from the source for 2\.0 s$/);
  assert.equal(source.iterated, 0, "frames() was never iterated");
  await supervisor.stop();
  assert.equal(source.runs.at(-1)!.signal.aborted, true);
});
