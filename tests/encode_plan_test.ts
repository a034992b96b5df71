import assert from "node:assert/strict";
import {
  type EncodeRequest,
  planEncode,
  scaledSize,
  type SourceOffer,
} from "../src/plan/encode_plan.ts";
import { EncodePlanner } from "../src/plan/encode_planner.ts";
import { UPRIGHT } from "../src/core/orientation.ts";

const request = (over: Partial<EncodeRequest> = {}): EncodeRequest => ({
  encoder: "auto",
  overlay: false,
  size: null,
  sizeMode: "fit",
  orientation: UPRIGHT,
  ...over,
});

/** A USB camera's MJPEG mode, read through ffmpeg. */
const mjpegCamera: SourceOffer = {
  jpeg: true,
  native: false,
  ffmpegCanRead: true,
  size: { width: 1280, height: 720 },
  fps: 30,
  cameraFlip: true,
  mode: "MJPEG 1280x720 at 30 fps",
  notes: [],
};
/** A raw camera (vivid, most CSI boards). */
const yuyvCamera: SourceOffer = { ...mjpegCamera, jpeg: false, mode: "YUYV 640x480 at 30 fps" };
/** A recording: tuchuan reads it, ffmpeg cannot. */
const recording: SourceOffer = {
  jpeg: true,
  native: true,
  ffmpegCanRead: false,
  size: { width: 640, height: 480 },
  fps: null,
  cameraFlip: false,
  mode: "a recording",
  notes: [],
};
/** A folder of JPEGs: tuchuan reads it, ffmpeg could too. */
const folder: SourceOffer = { ...recording, ffmpegCanRead: true, mode: "JPEG files" };

Deno.test("auto takes the cheapest path: a camera's MJPEG is copied, a raw camera is encoded by ffmpeg", () => {
  const copy = planEncode("v4l2", mjpegCamera, request());
  assert.equal(copy.path, "passthrough");
  assert.equal(copy.ffmpeg, "copy");
  assert.match(copy.reason, /the camera delivers JPEG: ffmpeg copies them/);

  const raw = planEncode("v4l2", yuyvCamera, request());
  assert.equal(raw.path, "ffmpeg-encode");
  assert.equal(raw.ffmpeg, "mjpeg");
  assert.match(raw.reason, /YUYV 640x480 at 30 fps, not JPEG/);

  const native = planEncode("folder", folder, request());
  assert.equal(native.path, "passthrough");
  assert.equal(native.ffmpeg, null, "a folder tuchuan reads itself needs no ffmpeg");
});

Deno.test("--encoder ffmpeg re-encodes a JPEG source and --encoder imagescript sends it to the workers", () => {
  const ffmpeg = planEncode("v4l2", mjpegCamera, request({ encoder: "ffmpeg" }));
  assert.equal(ffmpeg.path, "ffmpeg-encode");
  assert.equal(ffmpeg.ffmpeg, "mjpeg");
  assert.match(ffmpeg.reason, /^--encoder ffmpeg/);

  const workers = planEncode("folder", folder, request({ encoder: "imagescript" }));
  assert.equal(workers.path, "imagescript");
  assert.equal(workers.ffmpeg, null, "the workers decode a native source's JPEGs themselves");
  const pixels = planEncode("v4l2", yuyvCamera, request({ overlay: true }));
  assert.equal(pixels.path, "imagescript");
  assert.equal(pixels.ffmpeg, "rgba");
  assert.match(pixels.reason, /the overlay needs the pixels/);
});

Deno.test("combinations no path can serve are refused with the flags named", () => {
  assert.throws(
    () => planEncode("testsrc", yuyvCamera, request({ encoder: "ffmpeg", overlay: true })),
    (e: unknown) => e instanceof TypeError && /--encoder ffmpeg with --overlay/.test(e.message),
  );
  assert.throws(
    () => planEncode("replay", recording, request({ size: { width: 320, height: 240 } })),
    (e: unknown) =>
      e instanceof TypeError && /--size 320x240 with the recording.*640x480/.test(e.message),
  );
  assert.throws(
    () => planEncode("replay", recording, request({ encoder: "ffmpeg" })),
    (e: unknown) => e instanceof TypeError && /ffmpeg cannot read it/.test(e.message),
  );
  // The recording's own size asks for no scaling, so it is fine.
  const same = planEncode("replay", recording, request({ size: { width: 640, height: 480 } }));
  assert.equal(same.path, "passthrough");
});

Deno.test("--size scales through ffmpeg only when the size really changes", () => {
  const scaled = planEncode("v4l2", mjpegCamera, request({ size: { width: 640, height: 480 } }));
  assert.equal(scaled.path, "ffmpeg-encode");
  assert.deepEqual(scaled.scale, { box: { width: 640, height: 480 }, mode: "fit" });
  assert.deepEqual(scaledSize({ width: 1280, height: 720 }, { width: 640, height: 480 }, "fit"), {
    width: 640,
    height: 360,
  });
  assert.deepEqual(
    scaledSize({ width: 1280, height: 720 }, { width: 640, height: 480 }, "crop"),
    { width: 640, height: 480 },
  );
  // A box the picture already fits exactly is no resize.
  const fits = planEncode("v4l2", mjpegCamera, request({ size: { width: 1280, height: 960 } }));
  assert.equal(fits.path, "passthrough");
});

Deno.test("orientation: the camera mirrors when it can, a passed-through JPEG is turned by EXIF", () => {
  const half = planEncode(
    "v4l2",
    mjpegCamera,
    request({ orientation: { rotate: 180, flip: "none" } }),
  );
  assert.equal(half.path, "passthrough");
  assert.deepEqual(half.orientation.camera, { hflip: true, vflip: true });
  assert.equal(half.orientation.exif, 1, "the camera did the half turn: no EXIF tag needed");

  const quarter = planEncode(
    "v4l2",
    mjpegCamera,
    request({ orientation: { rotate: 90, flip: "none" } }),
  );
  assert.equal(quarter.orientation.exif, 6, "a quarter turn clockwise is EXIF 6");
  assert.match(quarter.reason, /turned by an EXIF tag/);
  assert.deepEqual(quarter.orientation.camera, { hflip: false, vflip: false });
  assert.doesNotMatch(quarter.reason, /mirrors/, "an unmirrored camera is not said to mirror");

  // Upright, the camera's flips are still set (to off): a flip left by an earlier run is undone.
  const upright = planEncode("v4l2", mjpegCamera, request());
  assert.deepEqual(upright.orientation.camera, { hflip: false, vflip: false });
  assert.doesNotMatch(upright.reason, /mirrors/);

  const noFlip = { ...mjpegCamera, cameraFlip: false };
  const byFfmpeg = planEncode(
    "file",
    { ...noFlip, jpeg: false },
    request({ orientation: { rotate: 90, flip: "h" } }),
  );
  assert.equal(byFfmpeg.path, "ffmpeg-encode");
  assert.equal(byFfmpeg.orientation.camera, null);
  assert.notEqual(byFfmpeg.orientation.ffmpeg, null, "ffmpeg's filters must do the turn");
  assert.equal(byFfmpeg.orientation.exif, 1, "a re-encoded JPEG carries no tag");

  const byWorkers = planEncode(
    "folder",
    folder,
    request({ overlay: true, orientation: { rotate: 270, flip: "none" } }),
  );
  assert.equal(byWorkers.orientation.ffmpeg, null);
  assert.notEqual(byWorkers.orientation.workers, null, "the workers must do the turn");
});

Deno.test("the planner tells its listener when a replugged camera brings another plan, not on every open", () => {
  const heard: string[] = [];
  const planner = new EncodePlanner("v4l2", request(), (plan) => heard.push(plan.path));
  assert.equal(planner.current, null);
  planner.decide(mjpegCamera);
  planner.decide(mjpegCamera);
  assert.deepEqual(heard, ["passthrough"], "the same offer again is no change");
  planner.decide(yuyvCamera);
  assert.deepEqual(heard, ["passthrough", "ffmpeg-encode"]);
  assert.equal(planner.current!.path, "ffmpeg-encode");
  // A mode chosen for --size means no scaling is left to do.
  const sized = new EncodePlanner("v4l2", request({ size: { width: 640, height: 480 } }));
  assert.equal(sized.decide(mjpegCamera, { size: null }).path, "passthrough");
});
