import assert from "node:assert/strict";
import { Image } from "imagescript";
import {
  fitOfflineImage,
  OfflineImageError,
  offlineJpeg,
  renderOfflineImage,
} from "../src/image/offline_card.ts";

const AT = new Date(2026, 10, 25, 21, 53, 31);
const LONG_REASON = "ffmpeg exited with code 1: /dev/video0: No such file or directory. " +
  "The camera was unplugged or another process holds it; tuchuan retries every few seconds. ";

/** Columns and rows holding pixels other than the background colour of the top-left corner. */
function inkBox(image: Image): { x0: number; y0: number; x1: number; y1: number } {
  const d = image.bitmap;
  const bg = [d[0], d[1], d[2]];
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      if (d[i] !== bg[0] || d[i + 1] !== bg[1] || d[i + 2] !== bg[2]) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return { x0, y0, x1, y1 };
}

function sameImage(a: Image, b: Image): boolean {
  return a.width === b.width && a.height === b.height &&
    a.bitmap.every((v, i) => v === b.bitmap[i]);
}

Deno.test("offlineJpeg decodes as a JPEG of the requested size", async () => {
  for (const [w, h] of [[160, 120], [640, 480], [1920, 1080]]) {
    const jpeg = await offlineJpeg(w, h, "camera unplugged", AT, 80);
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
    const image = await Image.decode(jpeg);
    assert.deepEqual([image.width, image.height], [w, h]);
  }
});

Deno.test("the offline frame changes with the reason and with the time", async () => {
  const a = await offlineJpeg(320, 240, "camera unplugged", AT, 80);
  const b = await offlineJpeg(320, 240, "RTSP timeout", AT, 80);
  const c = await offlineJpeg(320, 240, "camera unplugged", new Date(AT.getTime() + 1000), 80);
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("the offline frame is dark grey with its text centred", () => {
  for (const [w, h] of [[160, 120], [320, 240], [1920, 1080]]) {
    const image = renderOfflineImage(w, h, "camera unplugged", AT);
    const [r, g, b, a] = image.getRGBAAt(1, 1);
    assert.ok(r === g && g === b && r > 0 && r < 64 && a === 255, `background ${r},${g},${b}`);
    const ink = inkBox(image);
    // Centred horizontally and vertically within a couple of pixels, and well inside the frame.
    assert.ok(Math.abs(ink.x0 - (w - 1 - ink.x1)) <= 2, `horizontal ${JSON.stringify(ink)}`);
    assert.ok(Math.abs(ink.y0 - (h - 1 - ink.y1)) <= 2, `vertical ${JSON.stringify(ink)}`);
    assert.ok(ink.x0 > 0 && ink.y0 > 0 && ink.x1 < w - 1 && ink.y1 < h - 1);
  }
});

Deno.test("a long reason is wrapped inside the frame and cut after a few lines", () => {
  for (const [w, h] of [[160, 120], [640, 480]]) {
    const image = renderOfflineImage(w, h, LONG_REASON, AT);
    const ink = inkBox(image);
    assert.ok(ink.x0 > 0 && ink.x1 < w - 1, `text touches the sides at ${w}x${h}`);
    // Past the cut, more text changes nothing.
    const longer = renderOfflineImage(w, h, LONG_REASON + LONG_REASON, AT);
    assert.ok(sameImage(image, longer));
  }
  // An unbreakable word (a long URL) is broken rather than overflowing.
  const url = renderOfflineImage(160, 120, "rtsp://" + "x".repeat(200), AT);
  const ink = inkBox(url);
  assert.ok(ink.x0 > 0 && ink.x1 < 159);
});

Deno.test("offline frame arguments are checked", async () => {
  assert.throws(() => renderOfflineImage(0, 120, "x", AT), RangeError);
  assert.throws(() => renderOfflineImage(160, 12.5, "x", AT), RangeError);
  assert.throws(() => renderOfflineImage(160, 120, "x", new Date(NaN)), RangeError);
  await assert.rejects(offlineJpeg(160, 120, "x", AT, 0), RangeError);
  await assert.rejects(offlineJpeg(160, 120, "x", AT, 101), RangeError);
});

Deno.test("fitOfflineImage letterboxes a PNG or JPEG onto black at the stream size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A wide red picture: fits the width, black bars above and below.
    const wide = new Image(200, 100);
    wide.fill(0xff0000ff);
    await Deno.writeFile(`${dir}/wide.png`, await wide.encode());
    const fitted = await Image.decode(
      await fitOfflineImage(await Deno.readFile(`${dir}/wide.png`), 320, 240),
    );
    assert.deepEqual([fitted.width, fitted.height], [320, 240]);
    const [cr, cg, cb] = fitted.getRGBAAt(160, 120);
    assert.ok(cr > 200 && cg < 60 && cb < 60, `centre ${cr},${cg},${cb}`);
    const [tr, tg, tb] = fitted.getRGBAAt(160, 10);
    assert.ok(tr < 40 && tg < 40 && tb < 40, `top bar ${tr},${tg},${tb}`);
    const [er, ,] = fitted.getRGBAAt(2, 120);
    assert.ok(er > 200, "the picture spans the full width");

    // A tall green JPEG: fits the height, black bars left and right.
    const tall = new Image(50, 100);
    tall.fill(0x00ff00ff);
    await Deno.writeFile(`${dir}/tall.jpg`, await tall.encodeJPEG(90));
    const tallFitted = await Image.decode(
      await fitOfflineImage(await Deno.readFile(`${dir}/tall.jpg`), 320, 240),
    );
    assert.deepEqual([tallFitted.width, tallFitted.height], [320, 240]);
    assert.ok(tallFitted.getRGBAAt(160, 2)[1] > 200, "the picture spans the full height");
    assert.ok(tallFitted.getRGBAAt(10, 120)[1] < 40, "left bar is black");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fitOfflineImage refuses bytes that are not an image, with its cause", async () => {
  const bad = await fitOfflineImage(new TextEncoder().encode("this is not a picture"), 320, 240)
    .then(() => null, (e: unknown) => e);
  assert.ok(bad instanceof OfflineImageError);
  assert.equal(bad.name, "OfflineImageError");
  assert.match(bad.message, /expected PNG or JPEG/);
  assert.ok(bad.cause instanceof Error);
  const png = await new Image(4, 4).fill(0xffffffff).encode();
  await assert.rejects(fitOfflineImage(png, 0, 240), RangeError);
});
