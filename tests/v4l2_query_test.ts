/**
 * What tuchuan makes of one run of `v4l2-ctl --info --list-ctrls-menus --list-formats-ext`, the
 * query it makes at every open of a camera, on vivid's real output (vivid_query.txt: the whole
 * identity and controls, and the first two of its 83 formats, captured in the camera VM). Needs
 * no VM.
 *
 * @module
 */
import assert from "node:assert/strict";
import { negotiate } from "../src/source/v4l2/negotiate.ts";
import { splitQuery } from "../src/source/v4l2/v4l2_ctl.ts";
import { ffmpegArgs } from "../src/source/ffmpeg_args.ts";

const TEXT = Deno.readTextFileSync(new URL("../fixtures/v4l2/vivid_query.txt", import.meta.url));

Deno.test("one v4l2-ctl run gives the camera's identity, controls and formats apart", () => {
  const caps = splitQuery(TEXT);
  assert.equal(caps.info.driver, "vivid");
  assert.equal(caps.info.capture, true);
  assert.deepEqual(caps.formats.map((f) => f.fourcc), ["YUYV", "UYVY"]);
  const brightness = caps.controls.find((c) => c.name === "brightness");
  assert.deepEqual(
    { ...brightness, flags: undefined },
    {
      name: "brightness",
      id: 0x00980900,
      type: "int",
      rawType: "int",
      min: 0,
      max: 255,
      step: 1,
      default: 128,
      value: 128,
      flags: undefined,
      group: "User Controls",
    },
  );
  // Nothing of the identity block is taken for a control, nothing of the formats either.
  assert.ok(caps.controls.every((c) => /^[a-z0-9_]+$/.test(c.name)), "control names only");
  assert.equal(caps.controls.find((c) => c.name === "test_pattern")?.group, "Vivid Controls");
  assert.equal(negotiate(caps.formats, { size: null, fps: null })?.mode.fps, 25);
});

Deno.test("a device without controls or formats gives empty lists, not a misreading", () => {
  const head = TEXT.slice(0, TEXT.indexOf("User Controls"));
  const caps = splitQuery(head);
  assert.equal(caps.info.card, "vivid");
  assert.deepEqual(caps.controls, []);
  assert.deepEqual(caps.formats, []);
});

Deno.test("a camera's frames are passed one for one: no repeats, no crash on close timestamps", () => {
  const args = ffmpegArgs({
    input: {
      kind: "v4l2",
      device: "/dev/video0",
      inputFormat: "yuyv422",
      size: { width: 640, height: 480 },
      fps: 25,
    },
    output: "mjpeg",
    fps: null,
    scale: null,
    orient: null,
    quality: 70,
  });
  const i = args.outputOptions.indexOf("-fps_mode");
  assert.equal(args.outputOptions[i + 1], "vfr");
});
