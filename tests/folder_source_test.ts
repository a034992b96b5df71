import assert from "node:assert/strict";
import { folderFrames } from "../src/source/folder_source.ts";
import { FakeClock, makeJpeg } from "./test_utils.ts";

/** A folder with frames a.jpg (16 wide), b.jpg (24), c.jpg (32). */
async function folder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan-folder-" });
  for (const [name, width] of [["a", 16], ["b", 24], ["c", 32]] as const) {
    await Deno.writeFile(`${dir}/${name}.jpg`, await makeJpeg(width, 8));
  }
  return dir;
}

/** Plays `dir` at 10 fps on a fake clock; `next()` moves one tick and returns the frame's width. */
function play(dir: string, options: { cacheBytes?: number } = {}) {
  const clock = new FakeClock();
  const stop = new AbortController();
  let corrupt = 0;
  const frames = folderFrames(
    dir,
    10,
    stop.signal,
    clock,
    { onCorrupt: () => corrupt++ },
    options.cacheBytes,
  );
  return {
    /** Ticks were spent until the next frame came (a damaged file spends its tick too). */
    ticks: 0,
    async next(): Promise<number> {
      let settled = false;
      const pending = frames.next().finally(() => settled = true);
      for (let i = 0; i < 10 && !settled; i++) {
        await clock.advance(100);
        this.ticks++;
      }
      const { value, done } = await pending;
      assert.equal(done, false);
      return value!.width;
    },
    get corrupt() {
      return corrupt;
    },
    async stop() {
      stop.abort();
      await frames.return(undefined);
    },
  };
}

Deno.test("a folder plays its JPEGs in name order, one per tick, looping", async () => {
  const dir = await folder();
  const player = play(dir);
  const widths = [];
  for (let i = 0; i < 7; i++) widths.push(await player.next());
  assert.deepEqual(widths, [16, 24, 32, 16, 24, 32, 16]);
  await player.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("files added, removed or rewritten in place are seen at the next loop", async () => {
  const dir = await folder();
  const player = play(dir);
  for (let i = 0; i < 3; i++) await player.next();
  // Rewritten in place (same name, so the folder's own time may not change).
  await Deno.writeFile(`${dir}/b.jpg`, await makeJpeg(40, 8));
  const later = new Date(Date.now() + 5000);
  Deno.utimeSync(`${dir}/b.jpg`, later, later);
  const loop2 = [await player.next(), await player.next(), await player.next()];
  assert.deepEqual(loop2, [16, 40, 32], "the rewritten b.jpg was served from memory");
  // One removed and one added.
  await Deno.remove(`${dir}/a.jpg`);
  await Deno.writeFile(`${dir}/d.jpg`, await makeJpeg(48, 8));
  const loop3 = [await player.next(), await player.next(), await player.next()];
  assert.deepEqual(loop3, [40, 32, 48]);
  await player.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a damaged file is skipped and counted, keeping its place in the timing; the rest play on", async () => {
  const dir = await folder();
  await Deno.writeFile(`${dir}/bb.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  // A budget of one byte keeps nothing in memory: this takes the path of a folder too large.
  const player = play(dir, { cacheBytes: 1 });
  const widths = [];
  for (let i = 0; i < 6; i++) widths.push(await player.next());
  assert.deepEqual(widths, [16, 24, 32, 16, 24, 32]);
  assert.equal(player.corrupt, 2, "the damaged file is counted once per loop");
  assert.equal(player.ticks, 8, "the damaged file keeps its place in the timing");
  await player.stop();
  await Deno.remove(dir, { recursive: true });
});
