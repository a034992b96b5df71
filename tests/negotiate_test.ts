/**
 * Choosing a camera's mode (pixel format, size, frame rate) from what it offers, replaying real
 * and modelled `v4l2-ctl --list-formats-ext` outputs from fixtures/v4l2/.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_LIMIT,
  FFMPEG_FORMATS,
  negotiate,
  type Negotiation,
} from "../src/source/v4l2/negotiate.ts";
import { parseFormats, type V4l2Format } from "../src/source/v4l2/v4l2_parse.ts";
import type { Size } from "../src/core/frame.ts";

const formatsOf = (name: string) =>
  parseFormats(Deno.readTextFileSync(new URL(`../fixtures/v4l2/${name}`, import.meta.url)));

const VIVID = formatsOf("vivid_formats.txt");
const UVC = formatsOf("uvc_webcam_formats.txt");
const CSI = formatsOf("csi_stepwise_formats.txt");

const size = (width: number, height: number): Size => ({ width, height });
const only = (formats: readonly V4l2Format[], ...fourccs: string[]) =>
  formats.filter((f) => fourccs.includes(f.fourcc));
const without = (formats: readonly V4l2Format[], ...fourccs: string[]) =>
  formats.filter((f) => !fourccs.includes(f.fourcc));

/** A camera listing discrete sizes, each `[width, height, rates]`. */
function discrete(fourcc: string, sizes: [number, number, number[]][]): V4l2Format {
  return {
    fourcc,
    description: fourcc,
    compressed: fourcc === "MJPG" || fourcc === "JPEG" || fourcc === "H264",
    sizes: sizes.map(([width, height, fps]) => ({ kind: "discrete", width, height, fps })),
  };
}

function chosen(
  formats: readonly V4l2Format[],
  want: { size?: Size; fps?: number } = {},
): Negotiation {
  const n = negotiate(formats, { size: want.size ?? null, fps: want.fps ?? null });
  assert.ok(n, `a mode is chosen among ${formats.map((f) => f.fourcc).join(", ")}`);
  return n;
}

/** The mode as a user reads it in the log and /state. */
const modeText = (n: Negotiation) =>
  `${n.mode.fourcc} ${n.mode.size.width}x${n.mode.size.height} at ${n.mode.fps} fps`;

Deno.test("a UVC webcam without --size: its own MJPEG at 1280x720, 30 fps, passed through", () => {
  const n = chosen(UVC);
  assert.equal(modeText(n), "MJPG 1280x720 at 30 fps");
  assert.equal(n.mode.jpeg, true, "JPEG from the camera: no encode needed");
  assert.equal(n.mode.ffmpegFormat, "mjpeg");
  assert.equal(n.why, "the camera's own MJPEG, its best mode up to 1280x720");
  assert.deepEqual(n.notes, []);
});

Deno.test("a UVC webcam at 1920x1080: MJPEG, which has 30 fps there where YUYV has 5", () => {
  const n = chosen(UVC, { size: size(1920, 1080) });
  assert.equal(modeText(n), "MJPG 1920x1080 at 30 fps");
  assert.equal(n.why, "the camera's own MJPEG, at the mode asked for");
  assert.deepEqual(n.notes, []);
  // At 640x480 both give 30 fps: MJPEG still, as it costs no decode and less USB bandwidth.
  assert.equal(modeText(chosen(UVC, { size: size(640, 480), fps: 30 })), "MJPG 640x480 at 30 fps");
  // A rate the camera lists is taken as it is.
  assert.equal(
    modeText(chosen(UVC, { size: size(640, 480), fps: 7.5 })),
    "MJPG 640x480 at 7.5 fps",
  );
});

Deno.test("--fps without --size on a UVC webcam: the rate at the default size, or a note", () => {
  const fifteen = chosen(UVC, { fps: 15 });
  assert.equal(modeText(fifteen), "MJPG 1280x720 at 15 fps");
  assert.deepEqual(fifteen.notes, []);
  const sixty = chosen(UVC, { fps: 60 });
  assert.equal(modeText(sixty), "MJPG 1280x720 at 30 fps");
  assert.deepEqual(sixty.notes, ["asked for 60 fps; the camera offers 30 fps at 1280x720"]);
});

Deno.test("a YUYV-only webcam: YUYV for ffmpeg, at the largest size that still gives 15 fps", () => {
  const yuyv = only(UVC, "YUYV");
  const n = chosen(yuyv);
  // 1280x720 is within the limit but gives 10 fps: 640x480 at 30 is the fluent choice.
  assert.equal(modeText(n), "YUYV 640x480 at 30 fps");
  assert.equal(n.mode.jpeg, false);
  assert.equal(n.mode.ffmpegFormat, "yuyv422");
  assert.equal(n.why, "YUYV: the camera offers no MJPEG, its best mode up to 1280x720");

  const hd = chosen(yuyv, { size: size(1280, 720), fps: 30 });
  assert.equal(modeText(hd), "YUYV 1280x720 at 10 fps");
  assert.deepEqual(hd.notes, ["asked for 30 fps; the camera offers 10 fps at 1280x720"]);
});

Deno.test("H.264 is never chosen: ffmpeg's MJPEG path cannot take it", () => {
  // Without MJPEG, 1920x1080 at 30 exists only as H.264; YUYV at 5 fps is what tuchuan can use.
  const n = chosen(without(UVC, "MJPG"), { size: size(1920, 1080), fps: 30 });
  assert.equal(modeText(n), "YUYV 1920x1080 at 5 fps");
  assert.match(n.why, /^YUYV: the camera offers no MJPEG/);
  assert.deepEqual(n.notes, ["asked for 30 fps; the camera offers 5 fps at 1920x1080"]);
  assert.equal(negotiate(only(UVC, "H264"), { size: null, fps: null }), null);
});

Deno.test("a camera with only formats ffmpeg cannot read gets no mode", () => {
  const unreadable = VIVID.filter((f) => FFMPEG_FORMATS[f.fourcc] === undefined);
  assert.ok(unreadable.some((f) => f.fourcc === "BA81"), "vivid's Bayer formats are among them");
  assert.ok(unreadable.length > 50);
  assert.equal(negotiate(unreadable, { size: null, fps: null }), null);
  assert.equal(negotiate(unreadable, { size: size(640, 480), fps: 25 }), null);
  assert.equal(negotiate([], { size: null, fps: null }), null);
  // A format with no sizes at all cannot be opened either.
  assert.equal(negotiate([{ ...discrete("YUYV", []) }], { size: null, fps: null }), null);
});

Deno.test("vivid without --size: YUYV 640x480 at 25, the largest mode up to 1280x720 at 15 fps", () => {
  const n = chosen(VIVID);
  assert.equal(modeText(n), "YUYV 640x480 at 25 fps");
  assert.equal(n.mode.ffmpegFormat, "yuyv422");
  assert.equal(n.mode.jpeg, false);
  assert.equal(n.why, "YUYV: the camera offers no MJPEG, its best mode up to 1280x720");
  assert.deepEqual(n.notes, []);
  assert.deepEqual(DEFAULT_LIMIT, { width: 1280, height: 720 });
  assert.ok(Object.isFrozen(DEFAULT_LIMIT));
});

Deno.test("vivid at 640x480 and 30 fps: the nearest rate it has, 25, with a note saying so", () => {
  const n = chosen(VIVID, { size: size(640, 480), fps: 30 });
  assert.equal(modeText(n), "YUYV 640x480 at 25 fps");
  assert.deepEqual(n.notes, ["asked for 30 fps; the camera offers 25 fps at 640x480"]);
  assert.equal(n.why, "YUYV: the camera offers no MJPEG, at the mode asked for");
  // Fractional rates in the note read as the camera lists them.
  assert.deepEqual(chosen(VIVID, { size: size(1280, 720), fps: 30 }).notes, [
    "asked for 30 fps; the camera offers 12.5 fps at 1280x720",
  ]);
  // A size alone: the fastest rate there, no note.
  const sized = chosen(VIVID, { size: size(640, 360) });
  assert.equal(modeText(sized), "YUYV 640x360 at 30 fps", "up to 30 fps, though it has 40");
  assert.deepEqual(sized.notes, []);
});

Deno.test("a size the camera lacks: the nearest one of the same shape, with a note", () => {
  const four3 = chosen(VIVID, { size: size(800, 600) });
  assert.equal(modeText(four3), "YUYV 640x480 at 25 fps");
  assert.deepEqual(four3.notes, ["asked for 800x600; the camera's nearest size is 640x480"]);
  // 800x450 is 16:9; 640x480 is closer in pixel count, but 640x360 keeps the picture's shape.
  const wide = chosen(VIVID, { size: size(800, 450) });
  assert.deepEqual(wide.mode.size, size(640, 360));
  assert.deepEqual(wide.notes, ["asked for 800x450; the camera's nearest size is 640x360"]);
});

Deno.test("a raw-only camera without YUYV: the raw format ffmpeg converts best, not the first", () => {
  // vivid lists 422P and YU12 before NV12; tuchuan prefers NV12 of those.
  const n = chosen(without(VIVID, "YUYV", "UYVY"));
  assert.equal(n.mode.fourcc, "NV12");
  assert.equal(n.mode.ffmpegFormat, "nv12");
  assert.equal(chosen(without(VIVID, "YUYV")).mode.fourcc, "UYVY");
  assert.equal(chosen(only(VIVID, "GREY", "RGB3")).mode.fourcc, "RGB3");
  assert.equal(chosen(only(VIVID, "GREY")).mode.ffmpegFormat, "gray");
});

Deno.test("MJPEG is passed through unless raw comes closer to the rate wanted", () => {
  const camera = [
    discrete("YUYV", [[640, 480, [30, 15]]]),
    discrete("MJPG", [[640, 480, [15]]]),
  ];
  const fast = chosen(camera, { size: size(640, 480), fps: 30 });
  assert.equal(modeText(fast), "YUYV 640x480 at 30 fps");
  assert.match(fast.why, /^YUYV: /);
  assert.deepEqual(fast.notes, []);
  const slow = chosen(camera, { size: size(640, 480), fps: 15 });
  assert.equal(modeText(slow), "MJPG 640x480 at 15 fps", "both give 15: MJPEG");
  // Some cameras call their MJPEG "JPEG": it is passed through all the same.
  const jpeg = chosen([discrete("JPEG", [[640, 480, [30]]]), discrete("YUYV", [[640, 480, [30]]])]);
  assert.equal(jpeg.mode.fourcc, "JPEG");
  assert.equal(jpeg.mode.jpeg, true);
});

Deno.test("without --size, a camera with nothing within 1280x720 gets its smallest mode", () => {
  const big = [discrete("MJPG", [[3840, 2160, [30]], [1920, 1080, [30]], [2560, 1440, [30]]])];
  assert.equal(modeText(chosen(big)), "MJPG 1920x1080 at 30 fps");
  // Nothing reaches 15 fps within the limit: the largest that fits all the same.
  const slow = [discrete("YUYV", [[640, 480, [10, 5]], [1280, 720, [5]], [1920, 1080, [2]]])];
  assert.equal(modeText(chosen(slow)), "YUYV 1280x720 at 5 fps");
  // A camera whose only rates exceed 30: its slowest, not a rate it lacks.
  const fast = [discrete("MJPG", [[640, 480, [120, 60]]])];
  assert.equal(modeText(chosen(fast)), "MJPG 640x480 at 60 fps");
});

Deno.test("CSI stepwise: a size asked for is rounded to the sensor's step and kept in range", () => {
  const exact = chosen(CSI, { size: size(1640, 1232) });
  assert.equal(modeText(exact), "MJPG 1640x1232 at 30 fps");
  assert.deepEqual(exact.notes, []);

  const odd = chosen(CSI, { size: size(1641, 1233) });
  assert.deepEqual(odd.mode.size, size(1642, 1234));
  assert.deepEqual(odd.notes, ["asked for 1641x1233; the camera's nearest size is 1642x1234"]);

  const huge = chosen(CSI, { size: size(4000, 3000) });
  assert.deepEqual(huge.mode.size, size(2592, 1944));
  assert.deepEqual(huge.notes, ["asked for 4000x3000; the camera's nearest size is 2592x1944"]);
  const tiny = chosen(CSI, { size: size(16, 16) });
  assert.deepEqual(tiny.mode.size, size(32, 32));
});

Deno.test("CSI stepwise: a driver listing no rates takes the one asked for, without a note", () => {
  const n = chosen(CSI, { size: size(1920, 1080), fps: 40 });
  assert.equal(modeText(n), "MJPG 1920x1080 at 40 fps");
  assert.deepEqual(n.notes, []);
  assert.equal(chosen(CSI, { size: size(1920, 1080) }).mode.fps, 30, "30 fps when not asked");
});

Deno.test("CSI stepwise without --size: MJPEG within 1280x720, on the sensor's step", () => {
  const n = chosen(CSI);
  assert.equal(n.mode.fourcc, "MJPG");
  assert.equal(n.mode.fps, 30);
  assert.ok(n.mode.size.width <= DEFAULT_LIMIT.width && n.mode.size.height <= DEFAULT_LIMIT.height);
  assert.equal(n.mode.size.width % 2, 0);
  assert.equal(n.mode.size.height % 2, 0);
  // Raw only: NV12 before YU12, though the driver lists YU12 first.
  assert.equal(chosen(without(CSI, "MJPG")).mode.fourcc, "NV12");
});

Deno.test("every chosen mode is one the camera lists, in a format ffmpeg reads", () => {
  const asks: { size?: Size; fps?: number }[] = [
    {},
    { fps: 5 },
    { fps: 30 },
    { size: size(320, 240) },
    { size: size(1920, 1080), fps: 24 },
    { size: size(1024, 768), fps: 60 },
  ];
  for (const camera of [VIVID, UVC]) {
    for (const ask of asks) {
      const { mode } = chosen(camera, ask);
      assert.equal(mode.ffmpegFormat, FFMPEG_FORMATS[mode.fourcc]);
      const listed = camera.find((f) => f.fourcc === mode.fourcc)!.sizes.find((s) =>
        s.kind === "discrete" && s.width === mode.size.width && s.height === mode.size.height
      );
      assert.ok(listed, `${modeText({ mode, why: "", notes: [] })} is a listed size`);
      assert.ok(listed.fps.includes(mode.fps), `${mode.fps} fps is listed at that size`);
    }
  }
});

/** The mode chosen, in words. */
const modeOf = (f: readonly V4l2Format[], want: Size | null, fps: number | null) => {
  const n = negotiate(f, { size: want, fps })!;
  return `${n.mode.fourcc} ${n.mode.size.width}x${n.mode.size.height} at ${n.mode.fps} fps`;
};

Deno.test("CSI stepwise without --size keeps the sensor's 4:3 within 1280x720", () => {
  assert.equal(modeOf(CSI, null, null), "MJPG 960x720 at 30 fps");
});

Deno.test("a stepwise size never goes past the range's maximum", () => {
  const odd: V4l2Format = {
    fourcc: "NV12",
    description: "Y/UV 4:2:0",
    compressed: false,
    sizes: [{
      kind: "stepwise",
      minWidth: 48,
      maxWidth: 1000,
      stepWidth: 16,
      minHeight: 48,
      maxHeight: 1000,
      stepHeight: 16,
      fps: [],
    }],
  };
  const n = negotiate([odd], { size: { width: 1000, height: 1000 }, fps: null })!;
  assert.ok(n.mode.size.width <= 1000 && n.mode.size.height <= 1000, JSON.stringify(n.mode.size));
  assert.deepEqual(n.mode.size, { width: 992, height: 992 });
});

Deno.test("a range of frame intervals caps the rate", () => {
  const text = "\t[0]: 'YUYV' (YUYV 4:2:2)\n\t\tSize: Discrete 640x480\n" +
    "\t\t\tInterval: Continuous 0.033s - 1.000s (1.000-30.000 fps)\n" +
    "\t[1]: 'MJPG' (Motion-JPEG, compressed)\n\t\tSize: Discrete 1280x720\n" +
    "\t\t\tInterval: Stepwise 0.017s - 1.000s with step 0.017s (1.000-60.000 fps)\n";
  const f = parseFormats(text);
  assert.equal(f[0].sizes[0].fps[0], 30);
  assert.equal(f[1].sizes[0].fps[0], 60);
  const n = negotiate(f.slice(0, 1), { size: null, fps: 60 })!;
  assert.equal(n.mode.fps, 30);
  assert.deepEqual(n.notes, ["asked for 60 fps; the camera offers 30 fps at 640x480"]);
  assert.equal(negotiate(f.slice(0, 1), { size: null, fps: 20 })!.mode.fps, 20);
  assert.equal(negotiate(f.slice(1), { size: null, fps: null })!.mode.fps, 30);
});

Deno.test("raw chosen over the camera's slower MJPEG says why", () => {
  const d = (fourcc: string, fps: number[]): V4l2Format => ({
    fourcc,
    description: fourcc,
    compressed: false,
    sizes: [{ kind: "discrete", width: 640, height: 480, fps }],
  });
  const n = negotiate([d("YUYV", [30]), d("MJPG", [15])], {
    size: { width: 640, height: 480 },
    fps: 30,
  })!;
  assert.equal(n.why, "YUYV: the camera gives 30 fps in it, 15 in MJPEG, at the mode asked for");
});
