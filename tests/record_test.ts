/**
 * `tuchuan record` and replay: recordings of ffmpeg's testsrc stop after `--frames` or
 * `--duration`, are valid strict multipart streams with increasing timestamps, load with the
 * right number of frames, and replay on their recorded schedule (checked on a FakeClock).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RecordOptions } from "../src/config/config.ts";
import type { JpegFrame, SourceFrame } from "../src/core/frame.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { readMultipart } from "../src/multipart/multipart_reader.ts";
import { record } from "../src/record.ts";
import { CLOSE_NORMAL, OPEN_NORMAL, partBytes } from "../src/multipart/multipart_writer.ts";
import { bytesRecording, type RecordedPart, replayFrames } from "../src/source/replay_source.ts";
import type { Source } from "../src/source/source.ts";
import { concat, FakeClock, killAfter, readRecording, testSource } from "./test_utils.ts";
import { requires } from "./tools.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url);

function options(out: string, extra: Partial<RecordOptions>): RecordOptions {
  return {
    source: "testsrc",
    size: { width: 160, height: 120 },
    fps: 10,
    quality: 60,
    out,
    logLevel: "warn",
    ...extra,
  };
}

/** Milliseconds of each part after the first, from their X-Timestamps. */
function offsets(parts: RecordedPart[]): number[] {
  return parts.map((p) => p.timestampMs! - parts[0].timestampMs!);
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_record_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads a recording with the strict parser: its JPEG sizes and X-Timestamps (seconds). */
async function strictRead(path: string): Promise<{ sizes: string[]; stamps: number[] }> {
  const bytes = await Deno.readFile(path);
  const sizes: string[] = [];
  const stamps: number[] = [];
  for await (
    const part of readMultipart(ReadableStream.from([bytes]), "tuchuanframe", { strict: true })
  ) {
    assert.equal(part.headers.get("content-type"), "image/jpeg");
    const info = jpegInfo(part.body);
    assert.ok(info, `part ${sizes.length + 1} is not a complete JPEG`);
    sizes.push(`${info.width}x${info.height}`);
    stamps.push(Number(part.headers.get("x-timestamp")));
  }
  return { sizes, stamps };
}

function assertIncreasing(values: number[], what: string): void {
  for (let i = 1; i < values.length; i++) {
    assert.ok(values[i] > values[i - 1], `${what} ${i}: ${values[i]} after ${values[i - 1]}`);
  }
}

Deno.test(requires(["ffmpeg"], {
  name: "record --frames 5 of testsrc: five 160x120 frames that replay in order",
  async fn() {
    await withTempDir(async (dir) => {
      const out = `${dir}/five.mjpeg`;
      const progress: string[] = [];
      const result = await record(options(out, { frames: 5 }), {
        progress: (l) => progress.push(l),
      });
      assert.equal(result.frames, 5);
      assert.equal(result.corrupt, 0);
      assert.equal(result.bytes, (await Deno.stat(out)).size);
      assert.equal(progress.length, 5);
      const { sizes, stamps } = await strictRead(out);
      assert.deepEqual(sizes, Array(5).fill("160x120"));
      assertIncreasing(stamps, "X-Timestamp");
      const frames = await readRecording(out);
      assert.equal(frames.length, 5);
      assert.ok(frames.every((f) => f.jpeg && f.width === 160 && f.height === 120));
      assertIncreasing(offsets(frames), "offset");
    });
  },
}));

Deno.test(requires(["ffmpeg"], {
  name: "record --duration 1 of testsrc stops after a second of frames",
  async fn() {
    await withTempDir(async (dir) => {
      const out = `${dir}/second.mjpeg`;
      const result = await record(options(out, { duration: 1 }));
      // ffmpeg's start-up eats into the second, so fewer than 10 frames may come; never more
      // than a second's worth plus the one that crossed the line.
      assert.ok(result.frames >= 2 && result.frames <= 11, `${result.frames} frames`);
      assert.ok(result.seconds >= 1, `stopped after ${result.seconds} s`);
      const frames = await readRecording(out);
      assert.equal(frames.length, result.frames);
      assertIncreasing(offsets(frames), "offset");
      assert.ok(offsets(frames).at(-1)! <= 1000, `spans ${offsets(frames).at(-1)} ms`);
      const { stamps } = await strictRead(out);
      assertIncreasing(stamps, "X-Timestamp");
    });
  },
}));

Deno.test(requires(["ffmpeg"], {
  name: "`main.ts record` on the command line writes a recording and exits 0",
  async fn() {
    await withTempDir(async (dir) => {
      const out = `${dir}/cli.mjpeg`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "record",
          "--source",
          "testsrc",
          "--size",
          "160x120",
          "--fps",
          "10",
          "--frames",
          "3",
          "--out",
          out,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const killer = killAfter(child, 60_000);
      try {
        const r = await child.output();
        const stderr = new TextDecoder().decode(r.stderr);
        assert.equal(r.code, 0, stderr);
        assert.match(stderr, /Wrote .*cli\.mjpeg: 3 frames/);
        const { sizes } = await strictRead(out);
        assert.deepEqual(sizes, ["160x120", "160x120", "160x120"]);
      } finally {
        killer.cancel();
      }
    });
  },
}));

/** A source that yields `jpeg` at the given capture times, advancing `clock` to each. */
function scriptedSource(jpeg: JpegFrame, times: number[], clock: FakeClock): Source {
  return testSource(async function* (signal: AbortSignal): AsyncGenerator<SourceFrame> {
    for (const t of times) {
      if (signal.aborted) return;
      await clock.advance(t - clock.now());
      yield { ...jpeg, capturedAt: t };
    }
  }, "scripted");
}

Deno.test("record writes each frame's capture time; --duration counts on the injected clock", async () => {
  const [first] = await readRecording(FIXTURE);
  const jpeg: JpegFrame = {
    kind: "jpeg",
    data: first.jpeg!,
    width: first.width,
    height: first.height,
    capturedAt: 0,
  };
  const clock = new FakeClock(1_700_000_000_000);
  const t0 = clock.now();
  // Uneven gaps, as a real camera has; 20 frames 100 ms apart would pass --duration 1.
  const gaps = [0, 100, 250, 600, 700, 800, 950, 1000, 1100, 1200];
  await withTempDir(async (dir) => {
    const out = `${dir}/scripted.mjpeg`;
    const result = await record(options(out, { duration: 1 }), {
      clock,
      source: scriptedSource(jpeg, gaps.map((g) => t0 + g), clock),
    });
    // The frame at 1000 ms reaches the duration: it is the last one written.
    assert.equal(result.frames, 8);
    assert.equal(result.seconds, 1);
    const frames = await readRecording(out);
    assert.deepEqual(offsets(frames), gaps.slice(0, 8));
    assert.ok(frames.every((f) => f.jpeg && f.jpeg.length === first.jpeg!.length));
  });
});

/** A recording in memory whose parts carry these offsets (ms) as their capture times. */
function recordingAt(jpeg: Uint8Array, offsetsMs: number[]): Uint8Array {
  const t0 = 1_700_000_000_000;
  return concat(
    OPEN_NORMAL,
    ...offsetsMs.map((o, i) =>
      partBytes({ seq: i + 1, jpeg, width: 320, height: 240, capturedAt: t0 + o }, "normal")
    ),
    CLOSE_NORMAL,
  );
}

/** The offsets (ms after start) at which `replayFrames` yields its first `n` frames. */
async function schedule(
  bytes: Uint8Array,
  n: number,
  fps?: number,
): Promise<number[]> {
  const clock = new FakeClock();
  const start = clock.now();
  const ac = new AbortController();
  const it = replayFrames(bytesRecording(bytes), ac.signal, clock, { fps });
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      let done = false;
      const next = it.next().then((r) => {
        done = true;
        return r;
      });
      // Move time one millisecond at a time: the frame must appear exactly when it is due.
      for (let step = 0; !done && step < 60_000; step++) {
        await clock.advance(step === 0 ? 0 : 1);
      }
      const r = await next;
      assert.ok(!r.done);
      // Stamped when its sleep ended, which is no earlier than the last step before now.
      assert.ok(r.value.capturedAt > clock.now() - 1 && r.value.capturedAt <= clock.now());
      out.push(r.value.capturedAt - start);
    }
  } finally {
    ac.abort();
    await it.return(undefined);
  }
  return out;
}

Deno.test("replay follows the recorded timing, loops after the mean gap, or a fixed --fps", async () => {
  const [a] = await readRecording(FIXTURE);
  const recorded = recordingAt(a.jpeg!, [0, 100, 250, 600]);
  // Then the loop: 600 ms span + a 200 ms mean gap, and the same offsets again.
  assert.deepEqual(await schedule(recorded, 7), [0, 100, 250, 600, 800, 900, 1050]);
  assert.deepEqual(await schedule(recorded, 5, 20), [0, 50, 100, 150, 200]);
});

Deno.test(requires(["ffmpeg"], {
  name: "a testsrc recording replays on exactly its recorded schedule",
  async fn() {
    await withTempDir(async (dir) => {
      const out = `${dir}/timed.mjpeg`;
      await record(options(out, { frames: 6, fps: 15 }));
      const { stamps } = await strictRead(out);
      // Offsets are the recorded X-Timestamps less the first (to the millisecond).
      const expected = stamps.map((s) => (s - stamps[0]) * 1000);
      const played = await schedule(await Deno.readFile(out), 6);
      played.forEach((t, i) => assert.ok(Math.abs(t - expected[i]) < 0.01, `frame ${i} at ${t}`));
    });
  },
}));
