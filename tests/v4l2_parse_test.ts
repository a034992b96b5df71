/**
 * What tuchuan reads from `v4l2-ctl`: formats with their sizes and frame rates, controls, and the
 * device's identity, replayed from recorded and modelled outputs in fixtures/v4l2/ (see
 * fixtures/README.md for how each was made).
 */
import assert from "node:assert/strict";
import {
  type FrameSizes,
  parseControls,
  parseFormats,
  parseInfo,
  type V4l2Control,
  type V4l2Format,
} from "../src/source/v4l2/v4l2_parse.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../fixtures/v4l2/${name}`, import.meta.url));

function format(formats: readonly V4l2Format[], fourcc: string): V4l2Format {
  const f = formats.find((f) => f.fourcc === fourcc);
  assert.ok(f, `format ${fourcc} is listed (have ${formats.map((f) => f.fourcc).join(", ")})`);
  return f;
}

function control(controls: readonly V4l2Control[], name: string): V4l2Control {
  const c = controls.find((c) => c.name === name);
  assert.ok(c, `control ${name} is listed`);
  return c;
}

/** Each discrete size as `WxH@top`, the way a user reads a camera's modes. */
const modes = (f: V4l2Format) =>
  f.sizes.map((s) => s.kind === "discrete" ? `${s.width}x${s.height}@${s.fps[0]}` : s.kind);

Deno.test("vivid: 83 raw formats, no MJPEG, in the driver's order with plain fourccs", () => {
  const formats = parseFormats(fixture("vivid_formats.txt"));
  assert.equal(formats.length, 83);
  assert.deepEqual(formats.slice(0, 8).map((f) => f.fourcc), [
    "YUYV",
    "UYVY",
    "YVYU",
    "VYUY",
    "422P",
    "YU12",
    "YV12",
    "NV12",
  ]);
  assert.ok(formats.every((f) => !f.compressed), "vivid has no compressed format");
  assert.ok(!formats.some((f) => f.fourcc === "MJPG" || f.fourcc === "JPEG"));
  // 'Y10 ' in the listing: the padding is not part of the code.
  assert.ok(formats.some((f) => f.fourcc === "Y10"));
  assert.ok(formats.every((f) => f.fourcc === f.fourcc.trim()));
  // The description is the format's name, without vivid's "csc-…" flags after it.
  assert.equal(format(formats, "YUYV").description, "YUYV 4:2:2");
  assert.equal(format(formats, "NV12").description, "Y/UV 4:2:0");
  assert.ok(formats.every((f) => !f.description.includes("csc-")));
});

Deno.test("vivid: discrete webcam sizes, each with its frame rates fastest first", () => {
  const yuyv = format(parseFormats(fixture("vivid_formats.txt")), "YUYV");
  assert.ok(yuyv.sizes.every((s) => s.kind === "discrete"));
  // The top rates measured on vivid (camera-vm README): 640x480 tops out at 25, not 30.
  assert.deepEqual(modes(yuyv), [
    "320x180@60",
    "640x360@40",
    "640x480@25",
    "1280x720@12.5",
    "1920x1080@5",
    "3840x2160@2",
  ]);
  const vga = yuyv.sizes[2] as Extract<FrameSizes, { kind: "discrete" }>;
  assert.deepEqual(vga.fps, [25, 15, 12.5, 10, 5, 4, 2, 1]);
  for (const s of yuyv.sizes) {
    assert.deepEqual([...s.fps], [...s.fps].sort((a, b) => b - a), "fastest first");
    assert.equal(new Set(s.fps).size, s.fps.length, "no rate twice");
  }
});

Deno.test("UVC webcam: YUYV, MJPEG and H.264; MJPEG keeps 30 fps at sizes where YUYV crawls", () => {
  const formats = parseFormats(fixture("uvc_webcam_formats.txt"));
  assert.deepEqual(formats.map((f) => f.fourcc), ["YUYV", "MJPG", "H264"]);
  assert.deepEqual(formats.map((f) => f.compressed), [false, true, true]);
  assert.deepEqual(formats.map((f) => f.description), ["YUYV 4:2:2", "Motion-JPEG", "H.264"]);

  assert.deepEqual(modes(format(formats, "YUYV")), ["640x480@30", "1280x720@10", "1920x1080@5"]);
  assert.deepEqual(modes(format(formats, "MJPG")), ["640x480@30", "1280x720@30", "1920x1080@30"]);
  assert.deepEqual(modes(format(formats, "H264")), ["1920x1080@30"]);
  // Fractional rates survive: 0.133 s is 7.5 fps, not 7 or 8.
  assert.deepEqual(format(formats, "YUYV").sizes[0].fps, [30, 24, 20, 15, 10, 7.5, 5]);
});

Deno.test("CSI camera: one stepwise range per format, no frame rates listed", () => {
  const formats = parseFormats(fixture("csi_stepwise_formats.txt"));
  assert.deepEqual(formats.map((f) => f.fourcc), ["YU12", "NV12", "MJPG"]);
  assert.deepEqual(formats.map((f) => f.compressed), [false, false, true]);
  for (const f of formats) {
    assert.deepEqual(f.sizes, [{
      kind: "stepwise",
      minWidth: 32,
      minHeight: 32,
      maxWidth: 2592,
      maxHeight: 1944,
      stepWidth: 2,
      stepHeight: 2,
      fps: [],
    }]);
  }
});

Deno.test("a continuous size range (no step in the listing) has step 1", () => {
  // v4l2-ctl prints V4L2_FRMSIZE_TYPE_CONTINUOUS as "Continuous WxH - WxH", without a step.
  const text = "ioctl: VIDIOC_ENUM_FMT\n\tType: Video Capture\n\n" +
    "\t[0]: 'NV12' (Y/UV 4:2:0)\n\t\tSize: Continuous 16x16 - 1920x1088\n";
  const [nv12] = parseFormats(text);
  assert.deepEqual(nv12.sizes, [{
    kind: "stepwise",
    minWidth: 16,
    minHeight: 16,
    maxWidth: 1920,
    maxHeight: 1088,
    stepWidth: 1,
    stepHeight: 1,
    fps: [],
  }]);
});

Deno.test("formats: CRLF line ends are read like LF, and output without formats gives none", () => {
  const lf = fixture("uvc_webcam_formats.txt");
  assert.deepEqual(parseFormats(lf.replaceAll("\n", "\r\n")), parseFormats(lf));
  assert.deepEqual(parseFormats(""), []);
  // What v4l2-ctl prints for a node without capture formats (a UVC metadata node).
  assert.deepEqual(parseFormats("ioctl: VIDIOC_ENUM_FMT\n\tType: Video Capture\n\n"), []);
});

Deno.test("vivid controls: ranges, defaults and current values as the camera reports them", () => {
  const controls = parseControls(fixture("vivid_controls.txt"));
  assert.equal(controls.length, 59);
  assert.deepEqual(control(controls, "brightness"), {
    name: "brightness",
    id: 0x00980900,
    type: "int",
    rawType: "int",
    min: 0,
    max: 255,
    step: 1,
    default: 128,
    value: 128,
    flags: ["slider"],
    group: "User Controls",
  });
  const hue = control(controls, "hue");
  assert.deepEqual([hue.min, hue.max, hue.default], [-128, 128, 0], "negative ranges");
  const gain = control(controls, "gain");
  assert.equal(gain.value, 20, "the current value, not the default");
  assert.equal(gain.default, 100);
  assert.deepEqual(gain.flags, ["inactive", "volatile"], "gain is off while gain_automatic is on");
  assert.deepEqual(control(controls, "read_only_integer_32_bits").flags, ["read-only"]);
  const bool = control(controls, "gain_automatic");
  assert.deepEqual([bool.type, bool.default, bool.value], ["bool", 1, 1]);
  assert.equal(bool.min, undefined, "a bool has no range in the listing");
});

Deno.test("vivid controls: menus with their entries, buttons, and types tuchuan does not set", () => {
  const controls = parseControls(fixture("vivid_controls.txt"));
  const menu = control(controls, "menu");
  assert.equal(menu.type, "menu");
  assert.equal(menu.value, 3, "the value, not the label in brackets after it");
  // Entry 2 is missing in vivid's menu: only the listed entries are choices.
  assert.deepEqual(menu.menu, [
    { value: 1, label: "Menu Item 1" },
    { value: 3, label: "Menu Item 3" },
    { value: 4, label: "Menu Item 4" },
  ]);
  const pattern = control(controls, "test_pattern");
  assert.equal(pattern.group, "Vivid Controls");
  assert.equal(pattern.menu?.length, 22);
  assert.deepEqual(pattern.menu?.at(-1), { value: 21, label: "Noise" });
  const intmenu = control(controls, "integer_menu");
  assert.equal(intmenu.type, "intmenu");
  assert.deepEqual(intmenu.menu?.[2], { value: 4, label: "5 (0x5)" });

  const button = control(controls, "disconnect");
  assert.equal(button.type, "button");
  assert.deepEqual(button.flags, ["write-only", "execute-on-write"]);
  assert.equal(button.menu, undefined);

  assert.equal(control(controls, "integer_64_bits").type, "int64");
  for (const [name, raw] of [["string", "str"], ["bitmask", "bitmask"], ["area", "area"]]) {
    const c = control(controls, name);
    assert.deepEqual([c.type, c.rawType], ["other", raw], name);
  }
  assert.equal(control(controls, "bitmask").max, 0x80402010, "hex values are read as numbers");
  assert.equal(control(controls, "u8_pixel_array").type, "other");
  // Every control after the "Vivid Controls" heading is in that group, none before it.
  const firstVivid = controls.findIndex((c) => c.group === "Vivid Controls");
  assert.ok(controls.slice(0, firstVivid).every((c) => c.group === "User Controls"));
  assert.ok(controls.slice(firstVivid).every((c) => c.group === "Vivid Controls"));
});

Deno.test("UVC webcam controls: camera controls with steps, and automatic modes as menus", () => {
  const controls = parseControls(fixture("uvc_webcam_controls.txt"));
  assert.equal(controls.length, 17);
  const exposure = control(controls, "auto_exposure");
  assert.equal(exposure.group, "Camera Controls");
  assert.deepEqual(exposure.menu, [
    { value: 1, label: "Manual Mode" },
    { value: 3, label: "Aperture Priority Mode" },
  ]);
  const focus = control(controls, "focus_absolute");
  assert.deepEqual([focus.min, focus.max, focus.step], [0, 250, 5]);
  assert.deepEqual(focus.flags, ["inactive"]);
  assert.equal(control(controls, "pan_absolute").step, 3600);
  assert.equal(control(controls, "white_balance_temperature").group, "User Controls");
});

Deno.test("vivid --info: driver, card and bus, and a node that captures video", () => {
  assert.deepEqual(parseInfo(fixture("vivid_info.txt")), {
    driver: "vivid",
    card: "vivid",
    bus: "platform:vivid-000",
    capture: true,
  });
});

Deno.test("a UVC camera's metadata node is not a capture device, though the camera is", () => {
  // The device as a whole lists Video Capture under Capabilities; this node's Device Caps do not.
  assert.deepEqual(parseInfo(fixture("uvc_metadata_info.txt")), {
    driver: "uvcvideo",
    card: "HD Pro Webcam C920",
    bus: "usb-0000:00:14.0-1",
    capture: false,
  });
});

Deno.test("--info of an old driver without Device Caps: Capabilities decide", () => {
  const info = "Driver Info:\n\tDriver name   : gspca_zc3xx\n\tCard type     : USB Camera\n" +
    "\tBus info      : usb-0000:00:1d.0-1\n\tCapabilities  : 0x05000001\n" +
    "\t\tVideo Capture\n\t\tRead/Write\n\t\tStreaming\n";
  assert.deepEqual(parseInfo(info), {
    driver: "gspca_zc3xx",
    card: "USB Camera",
    bus: "usb-0000:00:1d.0-1",
    capture: true,
  });
  assert.equal(parseInfo("").capture, false, "nothing said: not a camera");
});
