/**
 * `--rotate` and `--flip` on every path (issue 9): passed-through JPEGs carry an EXIF
 * Orientation tag (no re-encode) that browsers follow and that PNG snapshots apply; ffmpeg's and
 * the workers' paths turn the pixels. A picture with a red top-left corner shows where each
 * orientation puts it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import type { Config } from "../src/config/config.ts";
import type { Flip, Rotation } from "../src/core/orientation.ts";
import { readExifOrientation } from "../src/jpeg/exif_orientation.ts";
import { startServer } from "../src/server.ts";
import { launchPlaywrightChromium } from "./browser_drivers.ts";
import { StreamWatcher } from "./stream_helpers.ts";
import { requires } from "./tools.ts";

type Corner = "TL" | "TR" | "BR" | "BL";

/** A 64x48 blue picture with a red 16x16 block in its top-left corner. */
async function cornerJpeg(): Promise<Uint8Array> {
  const img = new Image(64, 48).fill(0x2040c0ff);
  for (let y = 1; y <= 16; y++) for (let x = 1; x <= 16; x++) img.setPixelAt(x, y, 0xff2020ff);
  return await img.encodeJPEG(95);
}

/** Where the red block is in a decoded picture. */
function redCorner(img: Image): Corner {
  const red = (x: number, y: number) => {
    const [r, , b] = Image.colorToRGBA(img.getPixelAt(x, y));
    return r > 180 && b < 100;
  };
  const w = img.width;
  const h = img.height;
  const corners: [Corner, number, number][] = [
    ["TL", 4, 4],
    ["TR", w - 4, 4],
    ["BR", w - 4, h - 4],
    ["BL", 4, h - 4],
  ];
  const hits = corners.filter(([, x, y]) => red(x, y)).map(([c]) => c);
  assert.equal(hits.length, 1, `red in ${hits.join(",") || "no corner"}`);
  return hits[0];
}

/** Where the top-left corner goes: mirror first (h: left-right, v: top-bottom), then turn. */
function expected(rotate: Rotation, flip: Flip): Corner {
  let c: Corner = "TL";
  if (flip === "h" || flip === "hv") c = c === "TL" ? "TR" : c;
  if (flip === "v" || flip === "hv") c = c === "TL" ? "BL" : c === "TR" ? "BR" : c;
  const cw: Record<Corner, Corner> = { TL: "TR", TR: "BR", BR: "BL", BL: "TL" };
  for (let t = 0; t < rotate; t += 90) c = cw[c];
  return c;
}

async function folderOf(jpeg: Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_orient_" });
  for (let i = 0; i < 3; i++) await Deno.writeFile(`${dir}/f${i}.jpg`, jpeg);
  return dir;
}

const CASES: [Rotation, Flip][] = [[90, "none"], [180, "none"], [270, "h"], [0, "v"]];

for (
  const [path, extra, tools] of [
    ["passthrough", {}, []],
    ["imagescript", { encoder: "imagescript" }, []],
    ["ffmpeg-encode", { encoder: "ffmpeg" }, ["ffmpeg"]],
  ] as [string, Partial<Config>, "ffmpeg"[]][]
) {
  Deno.test(requires(tools, {
    name: `orientation on the ${path} path: the PNG snapshot and the stream show the corner turned`,
    async fn() {
      const dir = await folderOf(await cornerJpeg());
      try {
        for (const [rotate, flip] of CASES) {
          const server = await startServer({
            port: 0,
            source: dir,
            fps: 10,
            rotate,
            flip,
            ...extra,
          });
          try {
            const plan = server.cameras[0].planner.current!;
            assert.equal(plan.path, path);
            const png = await Image.decode(
              new Uint8Array(await (await fetch(`${server.url}snapshot.png`)).arrayBuffer()),
            );
            const quarter = rotate === 90 || rotate === 270;
            assert.deepEqual([png.width, png.height], quarter ? [48, 64] : [64, 48]);
            assert.equal(
              redCorner(png),
              expected(rotate, flip),
              `PNG, rotate ${rotate} flip ${flip}`,
            );
            const w = await StreamWatcher.open(`${server.url}stream`);
            await w.waitForCount(1);
            const part = w.recent[0].body;
            await w.close();
            if (path === "passthrough") {
              // Untouched pixels, told how to show them.
              assert.notEqual(readExifOrientation(part), 1);
              assert.equal(redCorner(await Image.decode(part) as Image), "TL");
            } else {
              assert.equal(readExifOrientation(part), 1);
              assert.equal(redCorner(await Image.decode(part) as Image), expected(rotate, flip));
            }
            const state = await (await fetch(`${server.url}state`)).json();
            assert.deepEqual([state.width, state.height], quarter ? [48, 64] : [64, 48]);
          } finally {
            await server.stop();
          }
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  }));
}

Deno.test(requires(["chromium"], {
  name: "Chromium shows a passed-through frame turned by its EXIF tag (--rotate 90)",
  async fn() {
    const dir = await folderOf(await cornerJpeg());
    const server = await startServer({ port: 0, source: dir, fps: 10, rotate: 90 });
    const browser = await launchPlaywrightChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 200, height: 200 } });
      await page.setContent(
        `<body style="margin:0"><img id=v src="${server.url}stream" style="display:block"></body>`,
      );
      // In-page code as strings: the tests are type-checked without the DOM library.
      await page.waitForFunction('document.getElementById("v").naturalWidth > 0');
      const size = await page.evaluate(
        '[document.getElementById("v").naturalWidth, document.getElementById("v").naturalHeight]',
      );
      assert.deepEqual(size, [48, 64]);
      const shot = await Image.decode(
        await page.screenshot({ clip: { x: 0, y: 0, width: 48, height: 64 } }),
      );
      assert.equal(redCorner(shot as Image), "TR");
    } finally {
      await browser.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
