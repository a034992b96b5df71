import assert from "node:assert/strict";
import { folderFrames, type FolderOptions, folderPush } from "../src/source/folder_source.ts";
import type { SourceFrame } from "../src/core/frame.ts";
import { FakeClock, makeJpeg } from "./test_utils.ts";

/** A folder with frames a.jpg (16 wide), b.jpg (24), c.jpg (32). */
async function folder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan-folder-" });
  for (const [name, width] of [["a", 16], ["b", 24], ["c", 32]] as const) {
    await Deno.writeFile(`${dir}/${name}.jpg`, await makeJpeg(width, 8));
  }
  return dir;
}

/** How the folder is played: iterated (`folderFrames`) or pushing from its timer (`folderPush`). */
type Mode = "iterate" | "push";

/** Plays `dir` at 10 fps on a fake clock; `next()` moves one tick and returns the frame's width. */
function play(dir: string, options: FolderOptions = {}, mode: Mode = "iterate") {
  const clock = new FakeClock();
  const stop = new AbortController();
  let corrupt = 0;
  const hooks = { onCorrupt: () => corrupt++ };
  let nextOne: () => Promise<IteratorResult<SourceFrame>>;
  let end: () => Promise<unknown>;
  if (mode === "iterate") {
    const frames = folderFrames(dir, 10, stop.signal, clock, hooks, options);
    nextOne = () => frames.next();
    end = () => frames.return(undefined);
  } else {
    // Frames arrive from the folder's timer; the next one is handed to whoever waits for it.
    const queue: SourceFrame[] = [];
    let waiting: PromiseWithResolvers<IteratorResult<SourceFrame>> | null = null;
    const played = folderPush(
      dir,
      10,
      stop.signal,
      clock,
      (frame) => {
        if (waiting) waiting.resolve({ value: frame, done: false });
        else queue.push(frame);
        waiting = null;
      },
      hooks,
      options,
    );
    played.catch((err) => waiting?.reject(err));
    nextOne = () => {
      const frame = queue.shift();
      if (frame) return Promise.resolve({ value: frame, done: false });
      waiting = Promise.withResolvers();
      return waiting.promise;
    };
    end = () => played;
  }
  return {
    /** Ticks were spent until the next frame came (a damaged file spends its tick too). */
    ticks: 0,
    clock,
    async next(): Promise<number> {
      return (await this.nextFrame()).width;
    },
    async nextFrame(): Promise<{ width: number; data: Uint8Array }> {
      let settled = false;
      const pending = nextOne().finally(() => settled = true);
      for (let i = 0; i < 10 && !settled; i++) {
        await clock.advance(100);
        this.ticks++;
      }
      const { value, done } = await pending;
      assert.equal(done, false);
      assert(value!.kind === "jpeg");
      return value!;
    },
    get corrupt() {
      return corrupt;
    },
    async stop() {
      stop.abort();
      await end();
    },
  };
}

/**
 * Plays on until the last `expected.length` frames are exactly the `expected` widths (in any
 * order): a change is noticed within a few loops (watched: when the kernel's event arrives;
 * unwatched: at the next stat, or the folder's check once a second). Bounded in frames and
 * in real time.
 */
async function untilSeen(player: ReturnType<typeof play>, expected: number[], what: string) {
  const want = [...expected].sort((a, b) => a - b).join();
  const recent: number[] = [];
  const deadline = Date.now() + 5000;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    recent.push(await player.next());
    if (recent.length > expected.length) recent.shift();
    if ([...recent].sort((a, b) => a - b).join() === want) return;
    // Let the watcher's event in (the fake clock runs ahead of real time).
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`${what}: still playing ${recent.join(", ")} instead of ${expected.join(", ")}`);
}

for (const mode of ["iterate", "push"] as const) {
  Deno.test(`a folder plays its JPEGs in name order, one per tick, looping (${mode})`, async () => {
    const dir = await folder();
    const player = play(dir, {}, mode);
    const widths = [];
    for (let i = 0; i < 7; i++) widths.push(await player.next());
    assert.deepEqual(widths, [16, 24, 32, 16, 24, 32, 16]);
    await player.stop();
    await Deno.remove(dir, { recursive: true });
  });

  for (const watch of [true, false]) {
    Deno.test(`files added, removed or rewritten in place are picked up (${watch ? "watched" : "checked by stat"}, ${mode})`, async () => {
      const dir = await folder();
      const player = play(dir, { watch }, mode);
      for (let i = 0; i < 3; i++) await player.next();
      // Rewritten in place: same name, so the folder's own time does not change.
      await Deno.writeFile(`${dir}/b.jpg`, await makeJpeg(40, 8));
      const later = new Date(Date.now() + 5000);
      Deno.utimeSync(`${dir}/b.jpg`, later, later);
      await untilSeen(player, [16, 40, 32], "the rewritten b.jpg");
      // One removed and one added.
      await Deno.remove(`${dir}/a.jpg`);
      await Deno.writeFile(`${dir}/d.jpg`, await makeJpeg(48, 8));
      await untilSeen(player, [40, 32, 48], "a.jpg removed and d.jpg added");
      await player.stop();
      await Deno.remove(dir, { recursive: true });
    });
  }

  Deno.test(`a watched folder sees a rewrite that leaves the file's size and time alone (${mode})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tuchuan-folder-" });
    // Two solid colours whose JPEGs have the same length.
    const [blue, green] = [await makeJpeg(24, 8, 0x3366ccff), await makeJpeg(24, 8, 0x33cc66ff)];
    assert.equal(blue.length, green.length);
    await Deno.writeFile(`${dir}/only.jpg`, blue);
    const { mtime } = Deno.statSync(`${dir}/only.jpg`);
    const player = play(dir, {}, mode);
    assert.deepEqual((await player.nextFrame()).data, blue);
    await Deno.writeFile(`${dir}/only.jpg`, green);
    Deno.utimeSync(`${dir}/only.jpg`, mtime!, mtime!);
    const deadline = Date.now() + 5000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      const frame = await player.nextFrame();
      seen = frame.data.length === green.length && frame.data.every((b, k) => b === green[k]);
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert(seen, "the rewrite was not seen: the folder is not watched");
    await player.stop();
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`a damaged file is skipped and counted, keeping its place in the timing; the rest play on (${mode})`, async () => {
    const dir = await folder();
    await Deno.writeFile(`${dir}/bb.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    // A budget of one byte keeps nothing in memory: this takes the path of a folder too large.
    const player = play(dir, { cacheBytes: 1, watch: false }, mode);
    const widths = [];
    for (let i = 0; i < 6; i++) widths.push(await player.next());
    assert.deepEqual(widths, [16, 24, 32, 16, 24, 32]);
    assert.equal(player.corrupt, 2, "the damaged file is counted once per loop");
    assert.equal(player.ticks, 8, "the damaged file keeps its place in the timing");
    await player.stop();
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`a folder that fits in memory is read whole before its first frame, as the seed did (${mode})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tuchuan-folder-" });
    const [blue, green] = [await makeJpeg(24, 8, 0x3366ccff), await makeJpeg(24, 8, 0x33cc66ff)];
    assert.equal(blue.length, green.length);
    await Deno.writeFile(`${dir}/a.jpg`, await makeJpeg(16, 8));
    await Deno.writeFile(`${dir}/b.jpg`, blue);
    const { mtime } = Deno.statSync(`${dir}/b.jpg`);
    // Unwatched, a file is read again only when its size or time changes; b.jpg has not played
    // yet when it is rewritten behind tuchuan's back, so what plays shows when it was read.
    const player = play(dir, { watch: false }, mode);
    assert.equal(await player.next(), 16);
    await Deno.writeFile(`${dir}/b.jpg`, green);
    Deno.utimeSync(`${dir}/b.jpg`, mtime!, mtime!);
    assert.deepEqual((await player.nextFrame()).data, blue, "b.jpg was read at the start");
    await player.stop();
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`beyond the memory budget, the rest of a folder is read as it plays (${mode})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tuchuan-folder-" });
    const [blue, green] = [await makeJpeg(24, 8, 0x3366ccff), await makeJpeg(24, 8, 0x33cc66ff)];
    await Deno.writeFile(`${dir}/a.jpg`, await makeJpeg(16, 8));
    await Deno.writeFile(`${dir}/b.jpg`, blue);
    const { mtime } = Deno.statSync(`${dir}/b.jpg`);
    // Room for a.jpg only: b.jpg is read when its turn comes, so a rewrite that keeps its size
    // and time still shows (where a kept frame would hide it, as above).
    const player = play(
      dir,
      { watch: false, cacheBytes: Deno.statSync(`${dir}/a.jpg`).size },
      mode,
    );
    assert.equal(await player.next(), 16);
    await Deno.writeFile(`${dir}/b.jpg`, green);
    Deno.utimeSync(`${dir}/b.jpg`, mtime!, mtime!);
    assert.deepEqual((await player.nextFrame()).data, green, "b.jpg was read when it played");
    await player.stop();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a pushing folder with no readable JPEG fails with an error naming it, leaving no timer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan-folder-" });
  await Deno.writeFile(`${dir}/bad.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  const clock = new FakeClock();
  let corrupt = 0;
  const played = folderPush(dir, 10, new AbortController().signal, clock, () => {}, {
    onCorrupt: () => corrupt++,
  }, { watch: false });
  const failed = assert.rejects(played, (err: Error) => {
    assert.equal(err.name, "SourceError");
    assert.match(err.message, new RegExp(`Folder ${dir} holds no readable JPEG`));
    return true;
  });
  await clock.advance(100);
  await failed;
  assert.equal(corrupt, 1);
  assert.equal(clock.pending, 0, "the pacing timer stopped");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a pushing folder resolves when stopped, and what its consumer throws ends it", async () => {
  const dir = await folder();
  const clock = new FakeClock();
  const stop = new AbortController();
  const widths: number[] = [];
  const played = folderPush(
    dir,
    10,
    stop.signal,
    clock,
    (f) => {
      if (f.kind === "jpeg") widths.push(f.width);
    },
    {},
    { watch: false },
  );
  await clock.advance(300);
  assert.deepEqual(widths, [16, 24, 32]);
  stop.abort();
  await played;
  await clock.advance(1000);
  assert.deepEqual(widths, [16, 24, 32], "no frame after the stop");
  assert.equal(clock.pending, 0);

  const boom = folderPush(
    dir,
    10,
    new AbortController().signal,
    clock,
    () => {
      throw new RangeError("Consumer broke");
    },
    {},
    { watch: false },
  );
  const rejected = assert.rejects(boom, /Consumer broke/);
  await clock.advance(100);
  await rejected;
  assert.equal(clock.pending, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a folder asked to play with a signal that has already aborted plays nothing", async () => {
  const dir = await folder();
  const clock = new FakeClock();
  const stopped = AbortSignal.abort();
  const frames: SourceFrame[] = [];
  await folderPush(dir, 10, stopped, clock, (f) => frames.push(f), {}, { watch: false });
  for await (const f of folderFrames(dir, 10, stopped, clock, {}, { watch: false })) frames.push(f);
  assert.deepEqual(frames, []);
  assert.equal(clock.pending, 0, "no timer");
  await Deno.remove(dir, { recursive: true });
});
