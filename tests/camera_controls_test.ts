/**
 * Camera controls as users set them (`--control`, `POST /controls`, mjpg-streamer's command URL):
 * what is listed, how values are checked against what the camera says, and the order they are
 * written in. The controls are vivid's as recorded and a UVC webcam's (fixtures/v4l2/).
 */
import assert from "node:assert/strict";
import {
  checkControls,
  checkControlValue,
  ControlError,
  isAutoMode,
  listedControls,
  writeOrder,
} from "../src/source/v4l2/camera_controls.ts";
import { parseControls, type V4l2Control } from "../src/source/v4l2/v4l2_parse.ts";

const controlsOf = (name: string) =>
  parseControls(Deno.readTextFileSync(new URL(`../fixtures/v4l2/${name}`, import.meta.url)));

const VIVID = controlsOf("vivid_controls.txt");
const UVC = controlsOf("uvc_webcam_controls.txt");

function control(controls: readonly V4l2Control[], name: string): V4l2Control {
  const c = controls.find((c) => c.name === name);
  assert.ok(c, `control ${name} is listed`);
  return c;
}

/** The ControlError `fn` throws; fails when it throws nothing or something else. */
function controlError(fn: () => unknown): ControlError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ControlError, `a ControlError, not ${err}`);
    assert.equal(err.name, "ControlError");
    return err;
  }
  assert.fail("no error was thrown");
}

const check = (name: string, raw: unknown, controls = VIVID) =>
  checkControlValue(control(controls, name), raw);

Deno.test("GET /controls lists what can be set, without payload types", () => {
  const listed = listedControls(VIVID);
  const names = listed.map((c) => c.name);
  assert.equal(listed.length, 51);
  for (const payload of ["string", "bitmask", "area", "u32_1_element_array", "u8_pixel_array"]) {
    assert.ok(!names.includes(payload), `${payload} is not listed`);
  }
  assert.deepEqual(listed.find((c) => c.name === "brightness"), {
    name: "brightness",
    id: 0x00980900,
    type: "int",
    min: 0,
    max: 255,
    step: 1,
    default: 128,
    value: 128,
    readOnly: false,
    inactive: false,
    group: "User Controls",
  });
  const gain = listed.find((c) => c.name === "gain")!;
  assert.equal(gain.inactive, true, "gain is shown as governed by gain_automatic");
  assert.equal(listed.find((c) => c.name === "read_only_integer_32_bits")!.readOnly, true);
  // A button has no value to show: v4l2-ctl's "value=0" of a write-only control means nothing.
  const button = listed.find((c) => c.name === "disconnect")!;
  assert.equal(button.type, "button");
  assert.ok(!("value" in button));
  assert.deepEqual(listed.find((c) => c.name === "osd_text_mode")!.menu, [
    { value: 0, label: "All" },
    { value: 1, label: "Counters Only" },
    { value: 2, label: "None" },
  ]);
  // The listing is a copy: changing it does not change what the camera was parsed as.
  listed.find((c) => c.name === "osd_text_mode")!.menu!.pop();
  assert.equal(control(VIVID, "osd_text_mode").menu?.length, 3);
});

Deno.test("integers: from flag text or JSON, within the camera's range", () => {
  assert.equal(check("brightness", 200), 200);
  assert.equal(check("brightness", "200"), 200, "--control brightness=200");
  assert.equal(check("brightness", " 42 "), 42);
  assert.equal(check("brightness", 0), 0);
  assert.equal(check("brightness", 255), 255);
  assert.equal(check("hue", "-128"), -128);
  assert.equal(check("gain", 50), 50, "an inactive control may be set with its automatic mode");

  assert.equal(
    controlError(() => check("brightness", 300)).message,
    "Invalid value 300 for brightness: expected 0 to 255",
  );
  assert.equal(
    controlError(() => check("hue", -129)).message,
    "Invalid value -129 for hue: expected -128 to 128",
  );
  for (const bad of [1.5, "abc", "12abc", "", true, null, {}, "0x10", Number.NaN]) {
    const err = controlError(() => check("brightness", bad));
    assert.equal(err.control, "brightness");
    assert.match(err.message, /^Invalid value .* for brightness: expected an integer$/);
  }
  assert.match(controlError(() => check("brightness", "abc")).message, /"abc"/);
});

Deno.test("integers with a step: only multiples of the step from the minimum", () => {
  assert.equal(check("focus_absolute", 15, UVC), 15);
  assert.equal(check("focus_absolute", "250", UVC), 250);
  const focus = controlError(() => check("focus_absolute", 12, UVC));
  assert.equal(focus.control, "focus_absolute");
  assert.equal(
    focus.message,
    "Invalid value 12 for focus_absolute: expected a multiple of 5 from 0",
  );
  // pan_absolute goes from -36000 in steps of 3600 (one degree is 3600 in V4L2 units).
  assert.equal(check("pan_absolute", 3600, UVC), 3600);
  assert.equal(check("pan_absolute", -36000, UVC), -36000);
  assert.match(
    controlError(() => check("pan_absolute", 1000, UVC)).message,
    /Invalid value 1000 for pan_absolute: expected a multiple of 3600 from -36000/,
  );
});

Deno.test("booleans: true/false, 1/0 and the usual words; anything else names the control", () => {
  for (const yes of [true, 1, "1", "true", "TRUE", "yes", "on"]) {
    assert.equal(check("mute", yes), 1);
  }
  for (const no of [false, 0, "0", "false", "no", "off"]) assert.equal(check("mute", no), 0);
  for (const bad of [2, "maybe", "", null]) {
    const err = controlError(() => check("mute", bad));
    assert.equal(err.control, "mute");
    assert.match(err.message, /^Invalid value .* for mute: expected true or false$/);
  }
  assert.equal(
    controlError(() => check("mute", 2)).message,
    "Invalid value 2 for mute: expected true or false",
  );
});

Deno.test("menus: an entry's value or its label, and only the entries the camera lists", () => {
  assert.equal(check("menu", 4), 4);
  assert.equal(check("menu", "4"), 4);
  assert.equal(check("menu", "Menu Item 4"), 4);
  assert.equal(check("menu", "menu item 4"), 4, "labels match whatever the case");
  assert.equal(check("test_pattern", "Noise"), 21);
  assert.equal(check("power_line_frequency", "50 Hz", UVC), 1);
  assert.equal(check("auto_exposure", "Manual Mode", UVC), 1);
  // 2 is within vivid's min=1 max=4, but the driver lists no entry 2.
  const gap = controlError(() => check("menu", 2));
  assert.equal(gap.control, "menu");
  assert.equal(
    gap.message,
    "Invalid value 2 for menu: expected one of 1 (Menu Item 1), 3 (Menu Item 3), 4 (Menu Item 4)",
  );
  // UVC's auto_exposure has no entry 0 or 2 either (a webcam has no shutter/aperture priority).
  assert.match(
    controlError(() => check("auto_exposure", 0, UVC)).message,
    /^Invalid value 0 for auto_exposure: expected one of 1 \(Manual Mode\), 3 \(Aperture Priority Mode\)$/,
  );
  assert.match(controlError(() => check("menu", "Item 4")).message, /"Item 4"/);
  // An integer menu is set by its index, as `v4l2-ctl -c` does.
  assert.equal(check("integer_menu", 5), 5);
  assert.match(controlError(() => check("integer_menu", 9)).message, /4 \(5 \(0x5\)\)/);
});

Deno.test("buttons are pressed with 1; read-only and payload controls cannot be set", () => {
  assert.equal(check("disconnect", 1), 1);
  assert.equal(check("disconnect", "1"), 1);
  assert.equal(check("disconnect", true), 1);
  assert.equal(
    controlError(() => check("disconnect", 0)).message,
    "Invalid value 0 for disconnect: a button takes 1 (press)",
  );
  const readOnly = controlError(() => check("read_only_integer_32_bits", 1));
  assert.equal(readOnly.control, "read_only_integer_32_bits");
  assert.equal(readOnly.message, "Control read_only_integer_32_bits is read-only");
  assert.equal(
    controlError(() => check("string", "ab")).message,
    "Control string is of type str, which tuchuan cannot set",
  );
  assert.match(controlError(() => check("bitmask", 1)).message, /of type bitmask/);
});

Deno.test("automatic modes are recognised by name, old kernel names included", () => {
  for (
    const auto of [
      "auto_exposure",
      "white_balance_automatic",
      "gain_automatic",
      "focus_automatic_continuous",
      "hue_automatic",
      // Names of kernels before 5.x ("Exposure, Auto", "White Balance Temperature, Auto").
      "exposure_auto",
      "white_balance_temperature_auto",
      "focus_auto",
    ]
  ) assert.ok(isAutoMode(auto), auto);
  for (
    const manual of [
      "exposure_time_absolute",
      "white_balance_temperature",
      "focus_absolute",
      "gain",
      "brightness",
      "exposure_dynamic_framerate",
      "horizontal_flip",
    ]
  ) assert.ok(!isAutoMode(manual), manual);
});

Deno.test("write order: automatic modes first, then the values they govern, as given", () => {
  // A user switching a webcam to manual exposure, white balance and focus in one request,
  // values first: the camera refuses them while their automatic modes are on.
  const asked = [
    { name: "exposure_time_absolute", value: 100 },
    { name: "white_balance_temperature", value: 4500 },
    { name: "auto_exposure", value: 1 },
    { name: "brightness", value: 100 },
    { name: "white_balance_automatic", value: 0 },
    { name: "focus_absolute", value: 20 },
    { name: "focus_automatic_continuous", value: 0 },
  ];
  const order = writeOrder(checkControls(UVC, asked)).map((v) => `${v.name}=${v.value}`);
  assert.deepEqual(order, [
    "auto_exposure=1",
    "white_balance_automatic=0",
    "focus_automatic_continuous=0",
    "exposure_time_absolute=100",
    "white_balance_temperature=4500",
    "brightness=100",
    "focus_absolute=20",
  ]);
  assert.deepEqual(
    writeOrder([{ name: "gain", value: 50 }, { name: "gain_automatic", value: 0 }]).map((v) =>
      v.name
    ),
    ["gain_automatic", "gain"],
  );
  assert.deepEqual(writeOrder([]), []);
});

Deno.test("a batch is checked whole: values converted in order, or one error for the bad one", () => {
  const good = checkControls(VIVID, [
    { name: "brightness", value: "140" },
    { name: "mute", value: "on" },
    { name: "test_pattern", value: "Noise" },
  ]);
  assert.deepEqual(good, [
    { name: "brightness", value: 140 },
    { name: "mute", value: 1 },
    { name: "test_pattern", value: 21 },
  ]);
  // The bad value last: nothing is returned to write, and the error says which one it is.
  const err = controlError(() =>
    checkControls(VIVID, [
      { name: "brightness", value: 140 },
      { name: "contrast", value: 100 },
      { name: "saturation", value: 999 },
    ])
  );
  assert.equal(err.control, "saturation");
  assert.equal(err.message, "Invalid value 999 for saturation: expected 0 to 255");
  assert.deepEqual(checkControls(VIVID, []), []);
});

Deno.test("an unknown control is named, with the controls the camera has", () => {
  const err = controlError(() =>
    checkControls(UVC, [{ name: "brightness", value: 1 }, { name: "exposure", value: 1 }])
  );
  assert.equal(err.control, "exposure");
  assert.match(err.message, /^Unknown control "exposure": the camera has brightness, contrast, /);
  assert.match(err.message, /auto_exposure, exposure_time_absolute/);
  // Only settable controls are offered as alternatives.
  const vivid = controlError(() => checkControls(VIVID, [{ name: "nope", value: 1 }]));
  assert.ok(!/\bbitmask\b|\bu8_pixel_array\b/.test(vivid.message), vivid.message);
  // A long name (a URL field) is cut in the message, not echoed whole.
  const long = "x".repeat(5000);
  const cut = controlError(() => checkControls(VIVID, [{ name: long, value: 1 }]));
  assert.ok(cut.message.startsWith(`Unknown control "${"x".repeat(40)}"`));
  assert.ok(cut.message.length < 5000);
  // A value is cut too.
  const huge = controlError(() => check("brightness", "9".repeat(5000)));
  assert.ok(huge.message.length < 200, `${huge.message.length} characters`);
});
