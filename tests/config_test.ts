import assert from "node:assert/strict";
import {
  type Command,
  type Config,
  DEFAULT_CONFIG,
  type RecordOptions,
} from "../src/config/config.ts";
import { parseCommand } from "../src/config/parse_command.ts";
import { recordUsage, usage } from "../src/config/usage.ts";
import { VERSION } from "../src/core/version.ts";

type Env = Record<string, string | undefined>;

function serve(args: string[], env: Env = {}): Config {
  const command = parseCommand(args, env);
  assert.equal(command.kind, "serve");
  return (command as Extract<Command, { kind: "serve" }>).config;
}

function record(args: string[], env: Env = {}): RecordOptions {
  const command = parseCommand(["record", ...args], env);
  assert.equal(command.kind, "record");
  return (command as Extract<Command, { kind: "record" }>).options;
}

/** Asserts that parsing throws `ErrorClass` with a message containing every `parts` string. */
function assertThrows(
  fn: () => unknown,
  ErrorClass: TypeErrorConstructor | RangeErrorConstructor,
  ...parts: string[]
): Error {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, "expected an error to be thrown");
  assert.equal(caught.constructor, ErrorClass, `wrong class for: ${caught.message}`);
  for (const part of parts) assert.ok(caught.message.includes(part), caught.message);
  // Sentence case.
  assert.match(caught.message, /^[A-Z]/);
  return caught;
}

/** Every flag set to a non-default value, as argv, env and the expected config. */
const ALL: { flag: string; value?: string; env: string; expect: Partial<Config> }[] = [
  { flag: "source", value: "testsrc", env: "TUCHUAN_SOURCE", expect: { source: "testsrc" } },
  {
    flag: "size",
    value: "1280x720",
    env: "TUCHUAN_SIZE",
    expect: { size: { width: 1280, height: 720 } },
  },
  { flag: "size-mode", value: "crop", env: "TUCHUAN_SIZE_MODE", expect: { sizeMode: "crop" } },
  { flag: "fps", value: "0.5", env: "TUCHUAN_FPS", expect: { fps: 0.5 } },
  { flag: "quality", value: "90", env: "TUCHUAN_QUALITY", expect: { quality: 90 } },
  {
    flag: "overlay",
    value: "fps,time,text=Hello, world",
    env: "TUCHUAN_OVERLAY",
    expect: { overlay: { fps: true, time: true, text: "Hello, world" } },
  },
  { flag: "host", value: "0.0.0.0", env: "TUCHUAN_HOST", expect: { host: "0.0.0.0" } },
  { flag: "port", value: "0", env: "TUCHUAN_PORT", expect: { port: 0 } },
  { flag: "token", value: "s3cret", env: "TUCHUAN_TOKEN", expect: { token: "s3cret" } },
  {
    flag: "cors",
    value: "https://example.com",
    env: "TUCHUAN_CORS",
    expect: { cors: "https://example.com" },
  },
  { flag: "max-clients", value: "3", env: "TUCHUAN_MAX_CLIENTS", expect: { maxClients: 3 } },
  { flag: "idle-timeout", value: "0", env: "TUCHUAN_IDLE_TIMEOUT", expect: { idleTimeout: 0 } },
  { flag: "always-on", env: "TUCHUAN_ALWAYS_ON", expect: { alwaysOn: true } },
  { flag: "send-timeout", value: "2.5", env: "TUCHUAN_SEND_TIMEOUT", expect: { sendTimeout: 2.5 } },
  { flag: "encoder", value: "ffmpeg", env: "TUCHUAN_ENCODER", expect: { encoder: "ffmpeg" } },
  { flag: "workers", value: "64", env: "TUCHUAN_WORKERS", expect: { workers: 64 } },
  { flag: "drop-same-frames", env: "TUCHUAN_DROP_SAME_FRAMES", expect: { dropSameFrames: true } },
  {
    flag: "offline-image",
    value: "away.jpg",
    env: "TUCHUAN_OFFLINE_IMAGE",
    expect: { offlineImage: "away.jpg" },
  },
  { flag: "history", value: "60", env: "TUCHUAN_HISTORY", expect: { history: 60 } },
  { flag: "rotate", value: "270", env: "TUCHUAN_ROTATE", expect: { rotate: 270 } },
  { flag: "flip", value: "hv", env: "TUCHUAN_FLIP", expect: { flip: "hv" } },
  {
    flag: "control",
    value: "brightness=140",
    env: "TUCHUAN_CONTROL",
    expect: { controls: [{ name: "brightness", value: "140" }] },
  },
  {
    flag: "header-timeout",
    value: "3",
    env: "TUCHUAN_HEADER_TIMEOUT",
    expect: { headerTimeout: 3 },
  },
  {
    flag: "keepalive-timeout",
    value: "4",
    env: "TUCHUAN_KEEPALIVE_TIMEOUT",
    expect: { keepaliveTimeout: 4 },
  },
  { flag: "max-pending", value: "7", env: "TUCHUAN_MAX_PENDING", expect: { maxPending: 7 } },
  { flag: "hook-timeout", value: "2", env: "TUCHUAN_HOOK_TIMEOUT", expect: { hookTimeout: 2 } },
  {
    flag: "on-first-viewer",
    value: "gpio-led 'on now'",
    env: "TUCHUAN_ON_FIRST_VIEWER",
    expect: { hooks: { onFirstViewer: ["gpio-led", "on now"] } },
  },
  { flag: "log-level", value: "debug", env: "TUCHUAN_LOG_LEVEL", expect: { logLevel: "debug" } },
];

Deno.test("no flags and no env give the defaults", () => {
  const config = serve([]);
  assert.deepEqual(config, { ...DEFAULT_CONFIG });
  assert.notEqual(config, DEFAULT_CONFIG);
  assert.deepEqual(
    { ...DEFAULT_CONFIG, workers: 1 },
    {
      source: "auto",
      size: null,
      sizeMode: "fit",
      fps: null,
      quality: 70,
      overlay: null,
      encoder: "auto",
      workers: 1,
      rotate: 0,
      flip: "none",
      controls: [],
      idleTimeout: 10,
      alwaysOn: false,
      dropSameFrames: false,
      history: 5,
      maxClients: 0,
      hooks: {},
      host: "127.0.0.1",
      port: 8080,
      sendTimeout: 10,
      headerTimeout: 10,
      keepaliveTimeout: 30,
      maxPending: 64,
      hookTimeout: 10,
      logLevel: "info",
      cameras: [],
    },
  );
  assert.ok(Number.isInteger(DEFAULT_CONFIG.workers));
  assert.ok(DEFAULT_CONFIG.workers >= 1 && DEFAULT_CONFIG.workers <= 64);
  assert.ok(Object.isFrozen(DEFAULT_CONFIG));
});

Deno.test("every flag is read from argv in both --flag value and --flag=value forms", () => {
  for (const { flag, value, expect } of ALL) {
    const spaced = value === undefined ? [`--${flag}`] : [`--${flag}`, value];
    const joined = [`--${flag}=${value ?? "true"}`];
    for (const args of [spaced, joined]) {
      assert.deepEqual(serve(args), { ...DEFAULT_CONFIG, ...expect }, args.join(" "));
    }
  }
});

Deno.test("every flag is read from its TUCHUAN_ variable", () => {
  for (const { env, value, expect } of ALL) {
    assert.deepEqual(serve([], { [env]: value ?? "1" }), { ...DEFAULT_CONFIG, ...expect }, env);
  }
});

Deno.test("all flags at once combine, and user and password come together", () => {
  const args = ALL.flatMap(({ flag, value }) =>
    value === undefined ? [`--${flag}`] : [
      `--${flag}`,
      value,
    ]
  );
  const config = serve([...args, "--user", "ann", "--password", "pw"]);
  const expected = Object.assign({ ...DEFAULT_CONFIG }, ...ALL.map(({ expect }) => expect));
  assert.deepEqual(config, { ...expected, user: "ann", password: "pw" });
});

Deno.test("the command line beats the environment; an empty variable is judged like an empty flag", () => {
  const env = { TUCHUAN_FPS: "5", TUCHUAN_PORT: "9000", TUCHUAN_HOST: "::" };
  const config = serve(["--fps", "12"], env);
  assert.equal(config.fps, 12);
  assert.equal(config.port, 9000);
  assert.equal(config.host, "::");
  // One rule for flags and variables: TUCHUAN_TOKEN= is no more "no token" than --token= is.
  assertThrows(() => serve([], { TUCHUAN_SOURCE: "" }), TypeError, `TUCHUAN_SOURCE ""`);
  const token = assertThrows(() => serve([], { TUCHUAN_TOKEN: "" }), TypeError, "TUCHUAN_TOKEN");
  assert.match(token.message, /non-empty/);
  // An empty overlay means none, from either place.
  assert.equal(serve([], { TUCHUAN_OVERLAY: "" }).overlay, null);
  // A bad env value that argv overrides is never looked at.
  assert.equal(serve(["--fps=7"], { TUCHUAN_FPS: "abc" }).fps, 7);
  assert.equal(serve(["--always-on=false"], { TUCHUAN_ALWAYS_ON: "1" }).alwaysOn, false);
  // The last occurrence on the command line wins.
  assert.equal(serve(["--quality", "10", "--quality", "20"]).quality, 20);
});

Deno.test("booleans take the same words everywhere, and the message lists exactly those", () => {
  assert.equal(serve(["--always-on=true"]).alwaysOn, true);
  assert.equal(serve(["--always-on=false"]).alwaysOn, false);
  const words: [string, boolean][] = [
    ["1", true],
    ["true", true],
    ["yes", true],
    ["ON", true],
    ["0", false],
    ["FALSE", false],
    ["no", false],
    ["off", false],
  ];
  for (const [raw, expected] of words) {
    assert.equal(serve([], { TUCHUAN_DROP_SAME_FRAMES: raw }).dropSameFrames, expected);
    assert.equal(serve([`--always-on=${raw}`]).alwaysOn, expected);
  }
  const err = assertThrows(
    () => serve([], { TUCHUAN_ALWAYS_ON: "maybe" }),
    TypeError,
    `TUCHUAN_ALWAYS_ON "maybe"`,
  );
  for (const [word] of words) assert.ok(err.message.includes(word.toLowerCase()), err.message);
  assertThrows(() => serve(["--always-on=maybe"]), TypeError, `--always-on "maybe"`);
  // A boolean takes no separate value, so a following word is a stray argument.
  assertThrows(() => serve(["--always-on", "yes"]), TypeError, `"yes"`, "--help");
});

Deno.test("bad numbers throw TypeError for the shape and RangeError for the range", () => {
  const cases: [string[], TypeErrorConstructor | RangeErrorConstructor, string][] = [
    [["--fps", "abc"], TypeError, `Invalid --fps "abc": expected a number greater than 0`],
    [["--fps", "0"], RangeError, `--fps "0"`],
    [["--fps", "121"], RangeError, `--fps "121"`],
    [["--fps", "1e1"], TypeError, `--fps "1e1"`],
    [["--fps", " 5"], TypeError, `--fps " 5"`],
    [["--size", "0x0"], RangeError, `--size "0x0"`],
    [["--size", "640"], TypeError, `--size "640"`],
    [["--size", "7681x480"], RangeError, `--size "7681x480"`],
    [["--size", "640x15"], RangeError, `--size "640x15"`],
    [["--size", "-640x480"], TypeError, `--size "-640x480"`],
    [["--quality", "101"], RangeError, `--quality "101"`],
    [["--quality", "0"], RangeError, `--quality "0"`],
    [["--quality", "50.5"], RangeError, `--quality "50.5"`],
    [["--port", "70000"], RangeError, `--port "70000"`],
    [["--port", "-1"], RangeError, `--port "-1"`],
    [["--port", "http"], TypeError, `--port "http"`],
    [["--max-clients", "-1"], RangeError, `--max-clients "-1"`],
    [["--idle-timeout", "-1"], RangeError, `--idle-timeout "-1"`],
    [["--send-timeout", "0"], RangeError, `--send-timeout "0"`],
    [["--workers", "0"], RangeError, `--workers "0"`],
    [["--workers", "65"], RangeError, `--workers "65"`],
    [["--history", "61"], RangeError, `--history "61"`],
    [["--fps="], TypeError, `--fps ""`],
    [["--fps", "0x10"], TypeError, `--fps "0x10"`],
    [["--rotate", "45"], TypeError, `--rotate "45"`],
    [["--flip", "x"], TypeError, `--flip "x"`],
    [["--size-mode", "zoom"], TypeError, `--size-mode "zoom"`],
    [["--header-timeout", "0"], RangeError, `--header-timeout "0"`],
    [["--max-pending", "0"], RangeError, `--max-pending "0"`],
    [["--host", "999.1.1.1"], RangeError, `--host "999.1.1.1"`],
    [["--host", "a b"], TypeError, `--host "a b"`],
    [["--control", "brightness"], TypeError, `--control "brightness"`],
    [["--on-offline", "notify 'unclosed"], TypeError, "--on-offline"],
  ];
  for (const [args, ErrorClass, part] of cases) assertThrows(() => serve(args), ErrorClass, part);
});

Deno.test("errors from env values name the variable", () => {
  assertThrows(
    () => serve([], { TUCHUAN_FPS: "abc" }),
    TypeError,
    `Invalid TUCHUAN_FPS "abc": expected a number greater than 0 and at most 120`,
  );
  assertThrows(() => serve([], { TUCHUAN_MAX_CLIENTS: "-2" }), RangeError, "TUCHUAN_MAX_CLIENTS");
  assertThrows(() => serve([], { TUCHUAN_SIZE: "big" }), TypeError, `TUCHUAN_SIZE "big"`);
});

Deno.test("unknown flags, stray arguments and missing values are TypeErrors", () => {
  assertThrows(() => serve(["--foo"]), TypeError, "Unknown flag --foo (see --help)");
  assertThrows(() => serve(["--foo=1"]), TypeError, "Unknown flag --foo ");
  assertThrows(() => serve(["-x"]), TypeError, "Unknown flag -x");
  assertThrows(() => serve(["testsrc"]), TypeError, `Unexpected argument "testsrc"`);
  assertThrows(() => serve(["--fps"]), TypeError, "Missing value for --fps");
  assertThrows(() => serve(["--port", "1", "--source"]), TypeError, "Missing value for --source");
  assertThrows(() => serve(["--fps", "--port", "80"]), TypeError, "Missing value for --fps");
  // --flag=VALUE lets a value start with dashes.
  assert.equal(serve(["--source=--odd"]).source, "--odd");
});

Deno.test("user and password go together, from argv or env", () => {
  assertThrows(() => serve(["--user", "ann"]), TypeError, "Missing --password");
  assertThrows(() => serve(["--password", "pw"]), TypeError, "Missing --user");
  assertThrows(() => serve([], { TUCHUAN_USER: "ann" }), TypeError, "--password");
  const config = serve(["--user", "ann"], { TUCHUAN_PASSWORD: "pw" });
  assert.equal(config.user, "ann");
  assert.equal(config.password, "pw");
  assertThrows(() => serve(["--user", "a:b", "--password", "pw"]), TypeError, `--user "a:b"`);
});

Deno.test("secrets never appear in error messages", () => {
  const error = assertThrows(() => serve(["--password="]), TypeError, "--password");
  assert.doesNotMatch(error.message, /""/);
  assertThrows(() => serve(["--token="]), TypeError, "Invalid --token:");
  // A missing value does not echo the next token, which could be a secret.
  const missing = assertThrows(() => serve(["--password", "--hunter2"]), TypeError, "--password");
  assert.doesNotMatch(missing.message, /hunter2/);
  const unpaired = assertThrows(() => serve(["--password", "hunter2"]), TypeError, "--user");
  assert.doesNotMatch(unpaired.message, /hunter2/);
});

Deno.test("enums: encoder and log level, case-insensitive, bad values are TypeErrors", () => {
  assert.equal(serve(["--encoder", "ImageScript"]).encoder, "imagescript");
  assert.equal(serve([], { TUCHUAN_LOG_LEVEL: "WARN" }).logLevel, "warn");
  assertThrows(() => serve(["--encoder", "gpu"]), TypeError, `--encoder "gpu"`, "imagescript");
  assertThrows(() => serve(["--log-level", "loud"]), TypeError, `--log-level "loud"`, "debug");
});

Deno.test("overlay: items, none, empty, text with commas, bad items", () => {
  assert.equal(serve(["--overlay", "none"]).overlay, null);
  assert.equal(serve(["--overlay="]).overlay, null);
  assert.deepEqual(serve(["--overlay", "fps"]).overlay, { fps: true, time: false });
  assert.deepEqual(serve(["--overlay", " time , fps,"]).overlay, { fps: true, time: true });
  assert.deepEqual(serve(["--overlay", "text=Lab 1, bench 2"]).overlay, {
    fps: false,
    time: false,
    text: "Lab 1, bench 2",
  });
  assertThrows(
    () => serve(["--overlay", "fps,clock"]),
    TypeError,
    `--overlay "fps,clock"`,
    "clock",
  );
  assertThrows(() => serve(["--overlay", "fps,text="]), TypeError, "--overlay", "text=");
});

Deno.test("cors accepts * or an http(s) origin and normalises it", () => {
  assert.equal(serve(["--cors", "*"]).cors, "*");
  assert.equal(serve(["--cors", "HTTP://Example.com:8080/"]).cors, "http://example.com:8080");
  for (
    const bad of ["example.com", "ftp://example.com", "https://example.com/path", "https://a/?q"]
  ) {
    assertThrows(() => serve(["--cors", bad]), TypeError, `--cors ${JSON.stringify(bad)}`);
  }
});

Deno.test("sizes and rates take native for the source's own", () => {
  assert.equal(serve(["--size", "native"]).size, null);
  assert.equal(serve(["--fps", "NATIVE"]).fps, null);
  assert.equal(serve(["--host", "[::1]"]).host, "::1");
  assert.equal(serve(["--host", "camera.local"]).host, "camera.local");
});

Deno.test("--camera names cameras; --camera-option sets a camera flag for one of them", () => {
  const config = serve([
    "--camera",
    "nozzle=/dev/video0",
    "--camera",
    "bed=http://cam.local/stream",
    "--camera-option",
    "bed.rotate=180",
    "--camera-option",
    "nozzle.control=focus_automatic_continuous=0",
    "--camera-option",
    "nozzle.control=focus_absolute=30",
    "--fps",
    "15",
  ]);
  assert.deepEqual(config.cameras, [
    {
      name: "nozzle",
      source: "/dev/video0",
      options: {
        controls: [
          { name: "focus_automatic_continuous", value: "0" },
          { name: "focus_absolute", value: "30" },
        ],
      },
    },
    { name: "bed", source: "http://cam.local/stream", options: { rotate: 180 } },
  ]);
  assert.equal(config.fps, 15);
  const env = serve([], { TUCHUAN_CAMERA: "a=testsrc b=testsrc" });
  assert.deepEqual(env.cameras.map((c) => c.name), ["a", "b"]);
  assertThrows(() => serve(["--camera", "a=x", "--camera", "A=y"]), TypeError, "used twice");
  assertThrows(() => serve(["--camera", "bad name=x"]), TypeError, `--camera "bad name=x"`);
  assertThrows(() => serve(["--camera", "stream=x"]), TypeError, "route of its own");
  assertThrows(
    () => serve(["--camera", "a=x", "--camera-option", "b.fps=3"]),
    TypeError,
    "no --camera is named",
  );
  assertThrows(
    () => serve(["--camera", "a=x", "--camera-option", "a.port=3"]),
    TypeError,
    "not a camera option",
  );
  assertThrows(
    () => serve(["--camera", "a=x", "--camera-option", "a.fps=0"]),
    RangeError,
    "--camera-option a.fps",
  );
  assertThrows(
    () => serve(["--camera", "a=x", "--source", "testsrc"]),
    TypeError,
    "--source with --camera",
  );
});

Deno.test("--tls-cert and --tls-key go together", () => {
  assertThrows(() => serve(["--tls-cert", "c.pem"]), TypeError, "Missing --tls-key");
  assert.equal(serve(["--tls-cert", "c.pem", "--tls-key", "k.pem"]).tlsKey, "k.pem");
});

Deno.test("other string flags reject empty values", () => {
  assertThrows(() => serve(["--source="]), TypeError, `--source ""`);
  assertThrows(() => serve(["--host="]), TypeError, `--host ""`);
  assertThrows(() => serve(["--offline-image="]), TypeError, `--offline-image ""`);
});

Deno.test("help and version", () => {
  for (const flag of ["--help", "-h"]) {
    assert.deepEqual(parseCommand([flag], {}), { kind: "help", text: usage() });
  }
  for (const flag of ["--version", "-V"]) {
    assert.deepEqual(parseCommand([flag], {}), { kind: "version", text: `tuchuan ${VERSION}` });
  }
  assert.equal(VERSION, "0.1.0");
  // Help wins over a bad value next to it, since values are judged only when serving.
  assert.equal(parseCommand(["--fps", "abc", "--help"], {}).kind, "help");
});

Deno.test("usage lists every flag with its default and env variable, the sources and record", () => {
  const text = usage();
  const lines = text.split("\n");
  assert.equal(
    lines[0],
    `tuchuan ${VERSION} — live MJPEG over HTTP from a camera, video file or URL`,
  );
  assert.match(text, /^Usage: tuchuan \[flags\]$/m);
  for (const { flag, env } of ALL) {
    const line = lines.find((l) => l.trimStart().startsWith(`--${flag} `));
    assert.ok(line, `no line for --${flag}`);
    assert.match(line, new RegExp(`\\(default: [^,]+, env: ${env}\\)$`));
  }
  assert.match(text, /--size WxH .*\(default: native, env: TUCHUAN_SIZE\)/);
  assert.match(text, /--size-mode stretch/);
  assert.match(text, /--workers N .*\(default: \d+ \(CPU count\), env: TUCHUAN_WORKERS\)/);
  assert.match(text, /--user USER .*env: TUCHUAN_USER/);
  assert.match(text, /--password PASSWORD .*env: TUCHUAN_PASSWORD/);
  for (const source of ["auto", "testsrc", "/dev/videoN", "http(s)://", "rtsp://", ".mjpeg"]) {
    assert.ok(text.includes(source), source);
  }
  assert.match(text, /\/dev\/video0 if present, else ffmpeg testsrc, else the bundled recording/);
  assert.match(text, /tuchuan record --out FILE/);
  assert.match(text, /--frames N .*env: TUCHUAN_FRAMES/);
});

Deno.test("record: defaults, flags, env and duration/frames", () => {
  assert.deepEqual(record(["--out", "a.mjpeg"]), {
    source: "auto",
    size: null,
    fps: null,
    quality: 70,
    out: "a.mjpeg",
    duration: 10,
    logLevel: "info",
  });
  assert.deepEqual(
    record([
      "--source=testsrc",
      "--size",
      "320x240",
      "--fps",
      "15",
      "--quality",
      "80",
      "--out",
      "b.mjpeg",
      "--frames",
      "50",
      "--log-level",
      "debug",
    ]),
    {
      source: "testsrc",
      size: { width: 320, height: 240 },
      fps: 15,
      quality: 80,
      out: "b.mjpeg",
      frames: 50,
      logLevel: "debug",
    },
  );
  const fromEnv = record([], {
    TUCHUAN_OUT: "c.mjpeg",
    TUCHUAN_DURATION: "2.5",
    TUCHUAN_SOURCE: "/dev/video1",
  });
  assert.equal(fromEnv.out, "c.mjpeg");
  assert.equal(fromEnv.duration, 2.5);
  assert.equal(fromEnv.source, "/dev/video1");
  // argv --frames overrides env --duration rather than conflicting with it.
  const mixed = record(["--out", "d.mjpeg", "--frames", "3"], { TUCHUAN_DURATION: "5" });
  assert.equal(mixed.frames, 3);
  assert.equal(mixed.duration, undefined);
});

Deno.test("record: help and errors", () => {
  assert.deepEqual(parseCommand(["record", "--help"], {}), { kind: "help", text: recordUsage() });
  assert.match(recordUsage(), /--out FILE .*env: TUCHUAN_OUT/);
  assert.match(recordUsage(), /--duration SECONDS .*\(default: 10, env: TUCHUAN_DURATION\)/);
  assertThrows(() => record([]), TypeError, "Missing --out");
  assertThrows(() => record(["--out"]), TypeError, "Missing value for --out");
  assertThrows(
    () => record(["--out", "a", "--duration", "1", "--frames", "2"]),
    TypeError,
    "--duration",
    "--frames",
  );
  assertThrows(() => record(["--out", "a", "--duration", "0"]), RangeError, `--duration "0"`);
  assertThrows(() => record(["--out", "a", "--frames", "0"]), RangeError, `--frames "0"`);
  assertThrows(() => record(["--out", "a", "--frames", "x"]), TypeError, `--frames "x"`);
  assertThrows(() => record(["--out", "a", "--fps", "abc"]), TypeError, `--fps "abc"`);
  // Server flags do not exist for record.
  assertThrows(
    () => record(["--out", "a", "--port", "1"]),
    TypeError,
    "Unknown flag --port (see tuchuan record --help)",
  );
  // "record" is only a command in first position.
  assertThrows(() => serve(["--fps", "5", "record"]), TypeError, `Unexpected argument "record"`);
});
