/**
 * tuchuan against a real V4L2 camera: Linux's vivid driver in a qemu guest (camera_vm.ts), with
 * tuchuan running in the guest and its users' clients (ffmpeg, OpenCV, Chromium) on the host.
 * What is checked is what a user sees: the size and rate frames arrive at, pixel values and
 * positions, what the banner, the log, `/state`, `/healthz`, `/metrics` and `/controls` say.
 *
 * vivid is a webcam with raw formats only (YUYV first, no MJPEG): 640x480 at up to 25 fps,
 * 640x360 at 40, 1280x720 at 12.5. Its picture is 75 % colour bars, white on the left to black on
 * the right, with a timestamp and frame counters drawn top left, so every frame differs.
 *
 * The VM boots once for the whole file (about 20 s; this is why the camera tests are one long
 * file rather than one per concern) and every test loads vivid afresh, so each
 * starts from the driver's default controls. The guest is emulated (TCG): its ffmpeg takes
 * seconds to start where a real board takes a fraction of one, and encoding 640x480 at 25 fps
 * takes most of the two host cores. Skipped, saying so, without qemu and the VM files
 * (`make camera-vm`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import { CAMERA_VM_DIR, have, requires, type Tool } from "../tools.ts";
import {
  arrivalRate,
  ffmpegRead,
  imageLuma,
  looksLikeCard,
  openCvRead,
  PictureWatcher,
  rgbAt,
  snapshot,
  withChromium,
} from "./camera_clients.ts";
import { byIdName, CameraVm, poll, PROJECT_DIR, TWO_WEBCAMS } from "./camera_vm.ts";
import { type GuestTuchuan, step, withTuchuan } from "./guest_tuchuan.ts";
import { StreamWatcher } from "../stream_helpers.ts";

const VIDEO0 = "/dev/video0";
/** Longest the first frame may take: the first capture of a process starts ffmpeg cold. */
const FIRST_FRAME_MS = 45_000;
/** The bound for NO SIGNAL after an unplug, and for live video after a replug. */
const RECOVERY_MS = 2000;

/** The VM, booted once before the first test; null without qemu, the Error when boot failed. */
const booted: CameraVm | Error | null = have("qemu")
  ? await CameraVm.boot(CAMERA_VM_DIR).catch((err) => err as Error)
  : null;
if (booted instanceof CameraVm) globalThis.addEventListener("unload", () => booted.stop());

/** The VM, with vivid loaded afresh (one webcam unless `options` say otherwise). */
async function camera(options?: string): Promise<CameraVm> {
  if (booted instanceof Error) throw booted;
  assert.ok(booted, "no VM");
  await booted.loadVivid(options);
  return booted;
}

/** A camera test: skipped without qemu and the VM (and the other tools it names). */
function cameraTest(name: string, tools: Tool[], fn: (t: Deno.TestContext) => Promise<void>) {
  Deno.test(requires(["qemu", "ffmpeg", ...tools], { name, fn }));
}

/**
 * The server's count of captured frames, sampled every 250 ms while a client reads, to tell the
 * rate the camera delivered during the client's own reading.
 */
class CaptureMeter {
  /** Host time of each answer, the server's own uptime then, and its count of frames. */
  readonly #samples: { at: number; uptime: number; frames: number }[] = [];
  readonly #done: Promise<void>;
  /** Settles with the first sample: a read must start after it, or it has no sample before. */
  readonly ready: Promise<void>;
  #stopped = false;

  constructor(server: GuestTuchuan, query = "") {
    const sample = async () => {
      const state = await server.state(`state${query}`);
      this.#samples.push({
        at: performance.now(),
        uptime: state.uptime,
        frames: state.frames.captured,
      });
    };
    const first = sample();
    this.ready = first;
    this.#done = (async () => {
      await first;
      while (!this.#stopped) {
        await new Promise((r) => setTimeout(r, 250));
        await sample();
      }
      await sample();
    })();
  }

  /** Stops sampling (after one more sample). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  /** Frames captured per second between the samples around `from` and `to`. */
  rate(from: number, to: number): number {
    const first = this.#samples.findLast((s) => s.at <= from);
    const last = this.#samples.find((s) => s.at >= to);
    assert.ok(first && last && last.at > first.at, "the capture was not sampled around the read");
    // Timed by the server's clock: the answers' arrival times on the host jitter by the busy
    // guest's response time (100 ms and more), which over a few seconds is a tenth of the rate.
    return (last.frames - first.frames) / (last.uptime - first.uptime);
  }
}

/**
 * Measures a client's reading against the capture: `read` runs the client and returns its
 * frames' arrival times. Asserts that the client got the frames at the rate the server captured
 * them meanwhile (at most 15 % under it, or `below` under it for a browser, which paints only the
 * newest of two frames that arrive within one of its 60 Hz refreshes: the emulated guest sends
 * in bunches; at most 30 % over it),
 * and that the capture never ran well above the camera's `nominal` rate. How far
 * below it the capture runs depends on the host: an emulated encoder at 640x480 and 25 fps takes
 * most of two cores, so another program on the host slows it; that is printed, not failed.
 */
async function assertClientRate(
  server: GuestTuchuan,
  who: string,
  nominal: number,
  read: () => Promise<number[]>,
  below = 0.15,
): Promise<void> {
  const meter = new CaptureMeter(server);
  let times: number[];
  try {
    // A /state request to the busy guest can take longer than ten frames.
    await meter.ready;
    times = await read();
  } finally {
    await meter.stop();
  }
  assert.ok(times.length >= 20, `${who} saw only ${times.length} frames`);
  const skipped = times.slice(10);
  const client = arrivalRate(times);
  const capture = meter.rate(skipped[0], skipped.at(-1)!);
  console.log(`${who}: ${client.toFixed(1)} fps; captured ${capture.toFixed(1)}; mode ${nominal}`);
  if (capture < nominal * 0.7) {
    console.log(`  (the guest did not keep up with the camera: the host is busy)`);
  }
  // Above the capture by up to 30 %: frames held back by a stall of the busy host (the client
  // ffmpeg, the socket buffers, the forwarded port) come out in a burst, and when that burst falls
  // at the start of the window the client's rate over a 3 s window reads high (21.5 fps of the
  // 18.2 captured seen in CI). A stream that sends a frame twice reads 2x and still fails.
  assert.ok(
    client >= capture * (1 - below) && client <= capture * 1.3,
    `${who} got ${client.toFixed(1)} fps of the ${capture.toFixed(1)} fps captured`,
  );
  // vivid catches up in a burst after the emulated guest stalls (27.9 of 25 and 34.1 of 30 fps
  // seen over a 3 s window on a busy host); a doubled frame stream is far above this.
  assert.ok(
    capture <= nominal * 1.25,
    `${capture.toFixed(1)} fps captured, above the camera's ${nominal}`,
  );
}

/** Waits until the server's source is online (its first frame is in). */
async function online(server: GuestTuchuan, query = ""): Promise<void> {
  await poll(
    "the camera to be online",
    async () => {
      const s = await server.state(`state${query}`);
      return s.source.online;
    },
    FIRST_FRAME_MS,
    async () => JSON.stringify((await server.state(`state${query}`)).source),
  );
}

/**
 * Starts the capture as a first viewer does, and waits for the camera to be online; the capture
 * then runs on for --idle-timeout (10 s), so the next client gets frames at once.
 */
async function startCapture(server: GuestTuchuan, query = ""): Promise<void> {
  const viewer = await StreamWatcher.open(`${server.url}stream${query}`);
  try {
    await online(server, query);
  } finally {
    await viewer.close();
  }
}

/** Gets a path of the server (a stream starts capture; a snapshot waits for a frame). */
async function get(server: GuestTuchuan, path: string, init?: RequestInit) {
  const res = await fetch(new URL(path, server.url), {
    ...init,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text itself.
  }
  // deno-lint-ignore no-explicit-any
  return { status: res.status, body: body as any, text };
}

/** The 75 % white of vivid's first bar, and its black last one. */
const isLight = ([r, g, b]: number[]) => r > 150 && g > 150 && b > 150;
const isDark = ([r, g, b]: number[]) => r < 50 && g < 50 && b < 50;

// ---------------------------------------------------------------------------------------------
// Format negotiation and native size

cameraTest(
  "a YUYV-only camera streams at its own size and rate to ffmpeg and OpenCV; /state, /metrics and the viewer page say so",
  ["opencv", "chromium"],
  async (t) => {
    const vm = await camera();
    await withTuchuan(vm, ["--source", VIDEO0], async (server) => {
      // Without --size or --fps: the camera's best mode up to 1280x720 with at least 15 fps.
      assert.match(server.banner, /Serves: +YUYV 640x480 at 25 fps/);
      assert.match(server.banner, /Encoder: ffmpeg-encode \(the camera delivers YUYV/);
      await startCapture(server);
      await step(t, server, "ffmpeg decodes 640x480 frames at 25 fps", async () => {
        await assertClientRate(server, "ffmpeg", 25, async () => {
          const read = await ffmpegRead(`${server.url}stream`, 100, { width: 640, height: 480 });
          return read.frames.map((f) => f.at);
        });
      });
      await step(t, server, "/state says which mode and why, and what it serves", async () => {
        const state = await server.state();
        assert.equal(state.source.mode, "YUYV 640x480 at 25 fps");
        assert.match(state.source.why, /YUYV: the camera offers no MJPEG, its best mode/);
        assert.deepEqual(state.source.asked, { size: null, fps: null });
        assert.deepEqual(state.source.notes, []);
        assert.equal(state.source.width, 640);
        assert.equal(state.source.height, 480);
        assert.equal(state.encoder.path, "ffmpeg-encode");
      });
      await step(t, server, "OpenCV reads 480x640x3 frames at 25 fps", async () => {
        await assertClientRate(server, "OpenCV", 25, async () => {
          const read = await openCvRead(`${server.url}stream`, 100);
          assert.equal(read.shapes.length, 100);
          for (const shape of read.shapes) assert.deepEqual(shape, [480, 640, 3]);
          return read.times;
        });
      });
      await step(
        t,
        server,
        "/metrics and the viewer page in Chromium report 640x480 and the rate",
        async () => {
          await withChromium(async (browser) => {
            const page = await browser.newPage();
            await page.goto(server.url);
            await page.waitForFunction(
              () => (document.getElementById("stream") as HTMLImageElement).naturalWidth > 0,
              null,
              { timeout: 20_000 },
            );
            const size = await page.evaluate(() => {
              const img = document.getElementById("stream") as HTMLImageElement;
              return `${img.naturalWidth}x${img.naturalHeight}`;
            });
            assert.equal(size, "640x480");
            await page.waitForFunction(
              () => document.getElementById("st-res")?.textContent === "640\u00d7480",
              null,
              { timeout: 10_000 },
            );
            // The page shows /state's measured rate, polled: Chromium's own start slows the
            // guest (this mode takes it nearly both host cores), so the camera's rate may take a
            // while to show again; once in CI, on a busy host, longer than 15 s.
            const rateWaitMs = 30_000;
            try {
              await page.waitForFunction(
                () => {
                  const fps = Number(document.getElementById("st-fps")?.textContent);
                  return fps >= 25 * 0.7 && fps <= 25 * 1.1;
                },
                null,
                { timeout: rateWaitMs },
              );
            } catch (cause) {
              const shown = await page.evaluate(() =>
                document.getElementById("st-fps")?.textContent ?? "nothing"
              );
              const state = (await get(server, "state")).body;
              throw new Error(
                `The viewer page showed ${shown} fps after ${
                  rateWaitMs / 1000
                } s (/state says ${state?.fps})`,
                { cause },
              );
            }
            // /metrics too reports the size and rate served (polled, as the page's rate is).
            let said = "";
            await poll(
              "/metrics to report 640x480 at the camera's rate",
              async () => {
                said = (await get(server, "metrics")).text;
                const fps = Number(
                  /^tuchuan_output_fps\{camera="default"\} ([\d.]+)$/m.exec(said)?.[1],
                );
                return /^tuchuan_frame_width_pixels\{camera="default"\} 640$/m.test(said) &&
                  /^tuchuan_frame_height_pixels\{camera="default"\} 480$/m.test(said) &&
                  fps >= 25 * 0.7 && fps <= 25 * 1.1;
              },
              15_000,
              () => said.split("\n").filter((l) => /frame_|output_fps/.test(l)).join("\n"),
            );
          });
        },
      );
    });
  },
);

cameraTest(
  "Chromium shows every frame at the camera's own rate (its 320x180 mode at 30 fps)",
  ["chromium"],
  async () => {
    // 640x480 at 25 fps takes the emulated guest nearly both host cores to encode, leaving none
    // for Chromium; the camera's 320x180 mode leaves room for both.
    const vm = await camera();
    await withTuchuan(vm, ["--source", VIDEO0, "--size", "320x180"], async (server) => {
      assert.match(server.banner, /Serves: +YUYV 320x180 at 30 fps/);
      await startCapture(server);
      await withChromium(async (browser) => {
        const page = await browser.newPage();
        await page.goto(server.url);
        await page.waitForFunction(
          () => (document.getElementById("stream") as HTMLImageElement).naturalWidth > 0,
          null,
          { timeout: FIRST_FRAME_MS },
        );
        // Up to half under the capture's rate is allowed: Chromium paints only the newest of two
        // frames within one refresh, and here it shares the host's two cores with the emulated
        // guest's encoder (18.9, 21.2, 22.5 and 25.8 of 30 fps seen in four runs). A stalled
        // viewer or one held to a fraction of the rate still fails; the on-time check (each frame
        // painted within 150 ms) is the browser tests' job, on the host.
        await assertClientRate(server, "Chromium", 30, async () => {
          // The page says when it painted each change, in wall-clock milliseconds.
          const painted = await page.evaluate(pictureChangeTimes, 4000);
          return painted.map((t) => t - performance.timeOrigin);
        }, 0.5);
      });
    });
  },
);

cameraTest(
  "an explicit --size of another aspect keeps the camera's aspect (480x480 serves 480x360)",
  [],
  async () => {
    const vm = await camera();
    await withTuchuan(vm, ["--source", VIDEO0, "--size", "480x480"], async (server) => {
      const note = "asked for 480x480; the camera's nearest size is 640x480";
      assert.match(server.banner, new RegExp(`Note: +${note}`));
      assert.match(server.banner, /Encoder: ffmpeg-encode \(--size 480x480 needs scaling/);
      await startCapture(server);
      await assertClientRate(server, "ffmpeg", 25, async () => {
        const read = await ffmpegRead(`${server.url}stream`, 75, { width: 480, height: 360 });
        return read.frames.map((f) => f.at);
      });
      const state = await server.state();
      assert.equal(state.source.width, 480);
      assert.equal(state.source.height, 360);
      assert.deepEqual(state.source.notes, [note]);
      const shot = await snapshot(`${server.url}snapshot.jpg`);
      assert.equal(`${shot.width}x${shot.height}`, "480x360");
      // The bars are not cut off: white at the left edge, black at the right one.
      assert.ok(isLight(rgbAt(shot, 4, 300)) && isDark(rgbAt(shot, 475, 300)));
    });
  },
);

// ---------------------------------------------------------------------------------------------
// tuchuan devices

cameraTest(
  "tuchuan devices lists both cameras with their by-id names, formats, sizes, rates and controls (text and --json)",
  [],
  async () => {
    const vm = await camera(TWO_WEBCAMS);
    const main = `${PROJECT_DIR}/main.ts`;
    const deno = [Deno.execPath(), "run", "-A", "--cached-only", "--frozen", main, "devices"];
    const [textRun, jsonRun] = await Promise.all([
      vm.run(deno[0], [...deno.slice(1)], 60_000),
      vm.run(deno[0], [...deno.slice(1), "--json"], 60_000),
    ]);
    assert.equal(textRun.code, 0, textRun.stderr);
    const text = textRun.stdout;
    for (const i of [0, 1]) {
      assert.match(text, new RegExp(`^/dev/video${i}  vivid \\(platform:vivid-00${i}\\)$`, "m"));
      assert.match(text, new RegExp(`^  also: ${byIdName(i)}$`, "m"));
    }
    assert.match(
      text,
      /^ {2}tuchuan opens it as YUYV 640x480 at 25 fps \(YUYV: the camera offers no MJPEG/m,
    );
    assert.match(text, /^ {4}YUYV \(YUYV 4:2:2\)/m);
    assert.match(text, /^ {6}640x480: 25, 15, 12\.5, 10, 5, 4, 2, 1 fps$/m);
    assert.match(text, /^ {6}1280x720: 12\.5, 10, 5, 4, 2, 1 fps$/m);
    assert.match(text, /^ {4}brightness: int 0\.\.255, default 128, now 128$/m);
    assert.match(text, /^ {4}horizontal_flip: bool, default 0, now 0$/m);
    assert.match(text, /^ {4}test_pattern: menu 0=75% Colorbar, 1=100% Colorbar/m);

    assert.equal(jsonRun.code, 0, jsonRun.stderr);
    const reports = JSON.parse(jsonRun.stdout);
    assert.deepEqual(reports.map((r: { device: string }) => r.device), [
      "/dev/video0",
      "/dev/video1",
    ]);
    const [first] = reports;
    assert.deepEqual(first.names, [byIdName(0)]);
    assert.equal(first.card, "vivid");
    assert.equal(first.capture, true);
    const yuyv = first.formats.find((f: { fourcc: string }) => f.fourcc === "YUYV");
    assert.ok(yuyv, "YUYV is listed");
    const vga = yuyv.sizes.find((s: { width: number; height: number }) =>
      s.width === 640 && s.height === 480
    );
    assert.deepEqual(vga.fps.slice(0, 3), [25, 15, 12.5]);
    const brightness = first.controls.find((c: { name: string }) => c.name === "brightness");
    assert.deepEqual(
      { ...brightness, id: undefined, group: undefined },
      {
        name: "brightness",
        id: undefined,
        type: "int",
        min: 0,
        max: 255,
        step: 1,
        default: 128,
        value: 128,
        readOnly: false,
        inactive: false,
        group: undefined,
      },
    );
    assert.match(first.choice, /^YUYV 640x480 at 25 fps/);
  },
);

// ---------------------------------------------------------------------------------------------
// Controls

cameraTest(
  "by its by-id name, asked for 640x480 at 30 fps: tuchuan uses the camera's 25 fps and says so; --control values are set at every open",
  [],
  async (t) => {
    const vm = await camera();
    const byId = byIdName(0);
    // gain is governed by gain_automatic: given first, it would be written while the automatic
    // mode still runs, and the switch to manual would then keep the automatic value instead.
    const args = ["--source", byId, "--size", "640x480", "--fps", "30"];
    args.push(
      "--control",
      "brightness=200",
      "--control",
      "gain=50",
      "--control",
      "gain_automatic=0",
    );
    await withTuchuan(vm, args, async (server) => {
      const note = "asked for 30 fps; the camera offers 25 fps at 640x480";
      await step(
        t,
        server,
        "the log, the banner and /state say so; clients get 25 fps",
        async () => {
          assert.match(server.banner, new RegExp(`Source: +v4l2 ${byId}`));
          assert.match(server.banner, new RegExp(`Note: +${note}`));
          assert.match(server.banner, /Serves: +YUYV 640x480 at 25 fps/);
          assert.match(await server.log(), new RegExp(`warn +Camera ${byId}: ${note}`));
          await startCapture(server);
          await assertClientRate(server, "ffmpeg", 25, async () => {
            const read = await ffmpegRead(`${server.url}stream`, 75, { width: 640, height: 480 });
            return read.frames.map((f) => f.at);
          });
          const state = await server.state();
          assert.equal(state.source.input, byId);
          assert.equal(state.source.device, VIDEO0, "/state names the device the by-id name is");
          assert.equal(state.source.mode, "YUYV 640x480 at 25 fps");
          assert.deepEqual(state.source.asked, { size: "640x480", fps: 30 });
          assert.deepEqual(state.source.notes, [note]);
          assert.match(state.source.why, /at the mode asked for/);
          assert.equal(state.source.width, 640);
          assert.equal(state.source.height, 480);
        },
      );
      const expect = async (when: string) => {
        assert.equal(await vm.control(VIDEO0, "brightness"), 200, `brightness ${when}`);
        assert.equal(await vm.control(VIDEO0, "gain_automatic"), 0, `gain_automatic ${when}`);
        assert.equal(await vm.control(VIDEO0, "gain"), 50, `gain ${when}`);
      };
      const viewer = await PictureWatcher.open(`${server.url}stream`);
      try {
        await viewer.waitFor("live", 0, "the first frame", FIRST_FRAME_MS);
        await step(t, server, "--control values set at open, automatic modes first", async () => {
          await expect("at open");
          const { body } = await get(server, "controls");
          const brightness = body.controls.find((c: { name: string }) => c.name === "brightness");
          assert.equal(brightness.value, 200, "GET /controls reads it back");
        });
        await step(t, server, "set again when the capture restarts", async () => {
          // Someone else changes the camera; an unplug then makes tuchuan open it again.
          await vm.setControls(VIDEO0, { brightness: 128 });
          const before = performance.now();
          await vm.setControls(VIDEO0, { disconnect: 1 });
          const card = await viewer.waitFor("card", before, "NO SIGNAL", 10_000);
          await viewer.waitFor("live", card.at, "live video again", 20_000);
          await expect("after a restart");
        });
        await step(
          t,
          server,
          "set again on the replugged camera, found by its by-id name",
          async () => {
            const before = performance.now();
            await vm.unplugWhileStreaming();
            await vm.plug();
            const card = await viewer.waitFor("card", before, "NO SIGNAL", 10_000);
            await viewer.waitFor("live", card.at, "live video again", 20_000);
            await expect("after a replug (vivid starts from its defaults)");
          },
        );
      } finally {
        await viewer.close();
      }
      assert.doesNotMatch(await server.log(), /refused|skipped/);
    });
  },
);

cameraTest("an unknown --control stops tuchuan at once, naming it (exit 2)", [], async () => {
  const vm = await camera();
  const r = await vm.run(Deno.execPath(), [
    "run",
    "-A",
    "--cached-only",
    "--frozen",
    `${PROJECT_DIR}/main.ts`,
    "--source",
    VIDEO0,
    "--control",
    "sharpness=3",
  ], 60_000);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Invalid --control sharpness: Unknown control "sharpness"/);
});

cameraTest(
  "GET /controls lists the controls; POST /controls and mjpg-streamer's command URL change brightness and the picture follows; bad values change nothing",
  [],
  async (t) => {
    const vm = await camera();
    const token = "camera-test-token";
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    await withTuchuan(vm, ["--source", VIDEO0, "--token", token], async (server) => {
      const luma = async () =>
        imageLuma(await snapshot(`${server.url}snapshot.jpg?token=${token}`));
      /** Waits for the picture's mean luma to pass `test`; returns it. */
      const lumaBecomes = (test: (l: number) => boolean, what: string) =>
        poll(what, async () => {
          const l = await luma();
          return test(l) ? l : null;
        }, 10_000);
      const post = (body: string, type: string) =>
        get(server, "controls", {
          method: "POST",
          body,
          headers: { ...auth.headers, "Content-Type": type },
        });
      const brightness = () => vm.control(VIDEO0, "brightness");
      // A viewer keeps the capture running, so snapshots are fresh frames.
      const viewer = await PictureWatcher.open(`${server.url}stream?token=${token}`);
      try {
        await viewer.waitFor("live", 0, "the first frame", FIRST_FRAME_MS);
        const base = await luma();

        await step(
          t,
          server,
          "GET /controls: type, range, step, default and value of each",
          async () => {
            const { status, body } = await get(server, "controls", auth);
            assert.equal(status, 200);
            const byName = new Map(body.controls.map((c: { name: string }) => [c.name, c]));
            assert.deepEqual(
              pick(byName.get("brightness"), ["type", "min", "max", "step", "default", "value"]),
              { type: "int", min: 0, max: 255, step: 1, default: 128, value: 128 },
            );
            assert.deepEqual(
              pick(byName.get("gain_automatic"), ["type", "default", "value"]),
              { type: "bool", default: 1, value: 1 },
            );
            const pattern = byName.get("test_pattern") as { type: string; menu: unknown[] };
            assert.equal(pattern.type, "menu");
            assert.deepEqual(pattern.menu[0], { value: 0, label: "75% Colorbar" });
            // Payload controls (strings, arrays) cannot be set: they are not listed.
            assert.ok(!byName.has("string") && !byName.has("u8_pixel_array"));
          },
        );

        await step(t, server, "POST JSON: brightness 200 makes the picture brighter", async () => {
          const r = await post(JSON.stringify({ brightness: 200 }), "application/json");
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(r.body.controls, [
            { name: "brightness", asked: 200, value: 200, error: null },
          ]);
          assert.equal(await brightness(), 200);
          await lumaBecomes((l) => l > base + 30, `the picture brighter than ${base.toFixed(0)}`);
        });

        await step(
          t,
          server,
          "POST form: brightness=60 and contrast=100 make it darker",
          async () => {
            const r = await post("brightness=60&contrast=100", "application/x-www-form-urlencoded");
            assert.equal(r.status, 200, r.text);
            assert.equal(await brightness(), 60);
            assert.equal(await vm.control(VIDEO0, "contrast"), 100);
            await lumaBecomes((l) => l < base - 30, `the picture darker than ${base.toFixed(0)}`);
          },
        );

        await step(
          t,
          server,
          "400 naming the control for a bad name, range or type; nothing changes",
          async () => {
            const cases: [unknown, string, RegExp][] = [
              [{ brightness: 90, sharpness: 3 }, "sharpness", /Unknown control "sharpness"/],
              [{ brightness: 90, contrast: 300 }, "contrast", /expected 0 to 255/],
              [{ contrast: 90, brightness: "bright" }, "brightness", /expected an integer/],
              [{ brightness: 90, gain_automatic: "sometimes" }, "gain_automatic", /true or false/],
            ];
            for (const [body, control, message] of cases) {
              const r = await post(JSON.stringify(body), "application/json");
              assert.equal(r.status, 400, r.text);
              assert.equal(r.body.param, control);
              assert.match(r.body.error, message);
            }
            assert.equal(await brightness(), 60, "brightness unchanged");
            assert.equal(await vm.control(VIDEO0, "contrast"), 100, "contrast unchanged");
          },
        );

        await step(t, server, "POST needs the same credentials as /pause", async () => {
          const r = await get(server, "controls", {
            method: "POST",
            body: JSON.stringify({ brightness: 128 }),
            headers: { "Content-Type": "application/json" },
          });
          assert.equal(r.status, 401);
          assert.equal(await brightness(), 60);
        });

        await step(t, server, "mjpg-streamer's /?action=command&id=ID&value=V", async () => {
          // 0x00980900 is V4L2_CID_BRIGHTNESS.
          const r = await get(server, `?action=command&id=${0x00980900}&value=128&token=${token}`);
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.controls[0].name, "brightness");
          assert.equal(await brightness(), 128);
          const l = await lumaBecomes((l) => l > base - 30, "the picture back to normal");
          assert.ok(Math.abs(l - base) < 30 || l > base, `luma ${l} back near ${base}`);
        });
      } finally {
        await viewer.close();
      }
    });
  },
);

/** The fields `keys` of `object`. */
function pick(object: unknown, keys: string[]): Record<string, unknown> {
  const o = object as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, o?.[k]]));
}

// ---------------------------------------------------------------------------------------------
// Orientation

cameraTest(
  "--rotate 90 turns the pixels clockwise on the ffmpeg path, in a decoded snapshot and in Chromium",
  ["chromium"],
  async () => {
    const vm = await camera();
    await withTuchuan(vm, ["--source", VIDEO0, "--rotate", "90"], async (server) => {
      assert.match(server.banner, /Encoder: ffmpeg-encode/);
      await startCapture(server);
      // Turned clockwise, the bars run top to bottom: vivid's white left bar at the top, its
      // black right bar at the bottom, and yellow (the second bar) just under the white.
      const shot = await snapshot(`${server.url}snapshot.jpg`);
      assert.equal(`${shot.width}x${shot.height}`, "480x640");
      assert.ok(isLight(rgbAt(shot, 120, 30)), `top: ${rgbAt(shot, 120, 30)}`);
      const [r, g, b] = rgbAt(shot, 120, 120);
      assert.ok(r > 150 && g > 150 && b < 60, `yellow under it: ${[r, g, b]}`);
      assert.ok(isDark(rgbAt(shot, 120, 610)), `bottom: ${rgbAt(shot, 120, 610)}`);
      const png = await snapshot(`${server.url}snapshot`);
      assert.equal(`${png.width}x${png.height}`, "480x640");
      assert.ok(isLight(rgbAt(png, 120, 30)) && isDark(rgbAt(png, 120, 610)));
      await withChromium(async (browser) => {
        const page = await browser.newPage();
        await page.goto(server.url);
        await page.waitForFunction(
          () => (document.getElementById("stream") as HTMLImageElement).naturalWidth > 0,
          null,
          { timeout: 20_000 },
        );
        // The page's viewer restarts the idle capture: until the camera's first frame it shows
        // the NO SIGNAL card (0x20 grey), which is not what this test looks at.
        const card = (p: number[]) => p.every((v) => Math.abs(v - 0x20) < 12);
        const seen = await poll("a camera frame in Chromium", async () => {
          const got = await page.evaluate(pixelsInPage, [[120, 30], [120, 120], [120, 610]]);
          return got.pixels.every(card) ? null : got;
        }, FIRST_FRAME_MS);
        assert.equal(seen.size, "480x640");
        assert.ok(isLight(seen.pixels[0]), `top in Chromium: ${seen.pixels[0]}`);
        assert.ok(seen.pixels[1][0] > 150 && seen.pixels[1][2] < 60, `yellow: ${seen.pixels[1]}`);
        assert.ok(isDark(seen.pixels[2]), `bottom in Chromium: ${seen.pixels[2]}`);
      });
      // Nothing is mirrored, so nothing may say so.
      assert.doesNotMatch(server.banner, /mirrors/);
    });
  },
);

cameraTest(
  "--flip h is done by the camera's own horizontal_flip: the picture is mirrored, ffmpeg only encodes; the next run without it undoes it",
  [],
  async (t) => {
    const vm = await camera();
    const args = ["--source", VIDEO0, "--flip", "h"];
    await withTuchuan(vm, args, async (server) => {
      assert.match(server.banner, /the camera mirrors the picture/);
      await startCapture(server);
      const shot = await snapshot(`${server.url}snapshot.jpg`);
      assert.equal(`${shot.width}x${shot.height}`, "640x480");
      // Mirrored: black on the left, white on the right.
      assert.ok(isDark(rgbAt(shot, 20, 300)), `left: ${rgbAt(shot, 20, 300)}`);
      assert.ok(isLight(rgbAt(shot, 620, 300)), `right: ${rgbAt(shot, 620, 300)}`);
      assert.equal(await vm.control(VIDEO0, "horizontal_flip"), 1);
      assert.equal(await vm.control(VIDEO0, "vertical_flip"), 0);
      const state = await server.state();
      assert.match(state.encoder.reason, /the camera mirrors the picture/);
      // ffmpeg's command line, in the debug log of the capture, has no flip of its own.
      const command = /ffmpeg running.*: (ffmpeg .*)$/m.exec(await server.log());
      assert.ok(command, "the debug log shows ffmpeg's command line");
      assert.doesNotMatch(command[1], /hflip|vflip|transpose/);
    });
    await t.step(
      "a run without --flip unmirrors the camera the last run left flipped",
      async () => {
        // The camera keeps its flip until it is unplugged (vivid too).
        assert.equal(await vm.control(VIDEO0, "horizontal_flip"), 1);
        await withTuchuan(vm, ["--source", VIDEO0], async (server) => {
          await startCapture(server);
          const shot = await snapshot(`${server.url}snapshot.jpg`);
          assert.ok(isLight(rgbAt(shot, 20, 300)), `left: ${rgbAt(shot, 20, 300)}`);
          assert.ok(isDark(rgbAt(shot, 620, 300)), `right: ${rgbAt(shot, 620, 300)}`);
          assert.equal(await vm.control(VIDEO0, "horizontal_flip"), 0);
        });
      },
    );
  },
);

cameraTest(
  "--overlay with --rotate 270: the camera's pixels go to imagescript, turned anticlockwise by ffmpeg",
  [],
  async () => {
    const vm = await camera();
    // The camera's 320x180 mode: imagescript encodes in JavaScript, which the emulated guest does
    // too slowly at 640x480 to keep the capture's watchdog content.
    const args = [
      "--source",
      VIDEO0,
      "--size",
      "320x180",
      "--overlay",
      "text=CAM",
      "--rotate",
      "270",
    ];
    await withTuchuan(vm, args, async (server) => {
      assert.match(
        server.banner,
        /Encoder: imagescript \(the overlay needs the pixels: ffmpeg delivers/,
      );
      await startCapture(server);
      // The first frames are still in the workers when the camera is online (and the workers'
      // start in the emulated guest can hold up the capture long enough for one restart).
      const shot = await poll("a 180x320 camera frame", async () => {
        const res = await fetch(`${server.url}snapshot.jpg`, {
          signal: AbortSignal.timeout(10_000),
        });
        const jpeg = new Uint8Array(await res.arrayBuffer());
        if (res.status !== 200 || await looksLikeCard(jpeg)) return null;
        const image = await Image.decode(jpeg) as Image;
        return image.width === 180 && image.height === 320 ? image : null;
      }, 30_000);
      // Anticlockwise: vivid's black right bar at the top, its white left bar at the bottom.
      assert.ok(isDark(rgbAt(shot, 90, 15)), `top: ${rgbAt(shot, 90, 15)}`);
      assert.ok(isLight(rgbAt(shot, 90, 305)), `bottom: ${rgbAt(shot, 90, 305)}`);
      const state = await server.state();
      assert.equal(state.encoder.path, "imagescript");
      assert.equal(state.source.width, 180);
      assert.equal(state.source.height, 320);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Unplug and replug

cameraTest(
  "unplugged while streaming: viewers stay connected, get NO SIGNAL with the reason within 2 s and live video again; busy and not connected told apart",
  [],
  async (t) => {
    const vm = await camera();
    // What this VM needs to open the camera and get a frame with a fresh ffmpeg (seconds under
    // TCG, a fraction of one on a real board): the replug bound is the 2 s on top.
    const ffmpegOpenMs = await ffmpegOpenTime(vm, "320x180", 30);
    console.log(`ffmpeg opens the camera and gets a frame in ${ffmpegOpenMs.toFixed(0)} ms here`);
    // The camera's 320x180 mode: the emulated guest draws the NO SIGNAL card (JavaScript, in an
    // image worker) at the stream's size while the restarted ffmpeg loads; at 640x480 the card
    // alone takes it about a second, which a real board does in a few tens of milliseconds.
    const args = ["--source", VIDEO0, "--size", "320x180", "--idle-timeout", "0"];
    await withTuchuan(vm, args, async (server) => {
      let viewer = await PictureWatcher.open(`${server.url}stream`);
      const notConnected: string[] = [];
      try {
        await viewer.waitFor("live", 0, "the first frame", FIRST_FRAME_MS);
        const health = await server.health();
        assert.equal(health.status, 200);
        assert.equal(health.body.status, "ok");
        // The card is drawn by the image worker, which starts on its first job: 125 ms on the
        // host, about 3.5 s in the emulated guest (28 times slower, where a Pi 4 is a few times
        // slower). A PNG snapshot starts it now, as a user's would, so that the 2 s bound below
        // measures tuchuan noticing the unplug and sending the card, not the emulator.
        const warm = await fetch(`${server.url}snapshot`, { signal: AbortSignal.timeout(60_000) });
        assert.equal(warm.status, 200);
        await warm.arrayBuffer();

        await step(t, server, "vivid's disconnect (an unplug while streaming)", async () => {
          const before = performance.now();
          await vm.setControls(VIDEO0, { disconnect: 1 });
          const card = await viewer.waitFor("card", before, "NO SIGNAL", 10_000);
          const stopped = viewer.lastBefore("live", card.at)!.at;
          assert.ok(await looksLikeCard(card.body), "the card is the NO SIGNAL picture");
          const late = card.at - stopped;
          console.log(`NO SIGNAL ${late.toFixed(0)} ms after the last live frame`);
          assert.ok(
            late <= RECOVERY_MS,
            `NO SIGNAL came ${late.toFixed(0)} ms after the last frame`,
          );
          // vivid is back as soon as ffmpeg has let go of it, which it has by the card.
          const back = await viewer.waitFor("live", card.at, "live video again", 30_000);
          const wait = back.at - card.at;
          console.log(`live again ${wait.toFixed(0)} ms after NO SIGNAL`);
          assert.ok(
            wait <= RECOVERY_MS + ffmpegOpenMs,
            `live video came back ${wait.toFixed(0)} ms after the camera (ffmpeg alone: ${
              ffmpegOpenMs.toFixed(0)
            } ms)`,
          );
          assert.ok(viewer.connected, "the same connection carries on");
          assert.ok(!(await looksLikeCard(back.body)), "live frames again");
          const state = await server.state();
          assert.equal(state.source.state, "online");
          assert.ok(state.restarts >= 1);
          assert.match(await server.log(), /Source offline: Camera \/dev\/video0: not connected/);
        });

        await step(t, server, "rmmod (the device node goes away), then modprobe", async () => {
          await online(server);
          const before = performance.now();
          await vm.unplugWhileStreaming();
          const card = await viewer.waitFor("card", before, "NO SIGNAL", 10_000);
          const stopped = viewer.lastBefore("live", card.at)!.at;
          assert.ok(card.at - stopped <= RECOVERY_MS, "NO SIGNAL within 2 s");
          const state = await poll("/state to say the camera is missing", async () => {
            const s = await server.state();
            return /no such device/i.test(s.source.reason) ? s : null;
          }, 10_000);
          assert.equal(state.source.state, "offline");
          assert.match(state.source.reason, /not connected/);
          notConnected.push(state.source.reason);
          const health = await server.health();
          assert.equal(health.status, 503);
          assert.equal(health.body.status, "offline");
          assert.match(health.body.reason, /not connected/);

          await vm.plug();
          const plugged = performance.now();
          const back = await viewer.waitFor("live", plugged, "live video again", 30_000);
          const wait = back.at - plugged;
          console.log(`live again ${wait.toFixed(0)} ms after modprobe`);
          assert.ok(
            wait <= RECOVERY_MS + ffmpegOpenMs,
            `live video came back ${wait.toFixed(0)} ms after modprobe (ffmpeg alone: ${
              ffmpegOpenMs.toFixed(0)
            } ms)`,
          );
          assert.ok(viewer.connected, "the same connection carries on");
          await poll(
            "/healthz to be ok again",
            async () => (await server.health()).status === 200,
            5000,
          );
        });
      } finally {
        await viewer.close();
      }

      await step(t, server, 'held by another program: busy, not "not connected"', async () => {
        if (!(await vm.exists(VIDEO0))) await vm.plug();
        // The last viewer left: with --idle-timeout 0 the capture stops and lets go of the camera.
        await poll(
          "the capture to stop",
          async () => !(await server.state()).source.running,
          10_000,
        );
        const holder = await vm.spawn("ffmpeg", [
          "-hide_banner",
          "-nostats",
          "-f",
          "v4l2",
          "-i",
          VIDEO0,
          "-f",
          "null",
          "-",
        ]);
        try {
          await holder.waitForOutput(/Output #0/, "the other program to hold the camera", 30_000);
          viewer = await PictureWatcher.open(`${server.url}stream`);
          const card = await viewer.waitFor("card", 0, "NO SIGNAL", 20_000);
          assert.ok(await looksLikeCard(card.body));
          const state = await poll("/state to say busy", async () => {
            const s = await server.state();
            return s.source.state === "offline" ? s : null;
          }, 20_000);
          assert.match(state.source.reason, /busy: another program is using it/);
          assert.ok(!notConnected.includes(state.source.reason));
          assert.doesNotMatch(state.source.reason, /not connected/);
          const health = await server.health();
          assert.equal(health.status, 503);
          assert.match(health.body.reason, /busy/);
          await holder.stop();
          const freed = performance.now();
          const back = await viewer.waitFor("live", freed, "live video once it is free", 30_000);
          console.log(`live again ${(back.at - freed).toFixed(0)} ms after the other program quit`);
        } finally {
          await holder.stop();
          await viewer.close();
        }
      });
    });
  },
);

/** How long a fresh ffmpeg takes in the guest to open the camera in a mode and get a frame. */
async function ffmpegOpenTime(vm: CameraVm, size: string, fps: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const started = performance.now();
    await vm.ok("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "v4l2",
      "-input_format",
      "yuyv422",
      "-video_size",
      size,
      "-framerate",
      String(fps),
      "-i",
      VIDEO0,
      "-frames:v",
      "1",
      "-f",
      "null",
      "-",
    ], 30_000);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Browser-side helpers (they run in Chromium; the DOM types are declared, not imported, as in
// tests/viewer_test.ts).

interface HTMLImageElement {
  naturalWidth: number;
  naturalHeight: number;
}
interface Context2d {
  drawImage(img: HTMLImageElement, ...args: number[]): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: "2d", options?: { willReadFrequently?: boolean }): Context2d | null;
}
declare const document: {
  getElementById(id: string): (HTMLImageElement & { textContent: string | null }) | null;
  createElement(tag: "canvas"): Canvas;
};
declare function requestAnimationFrame(callback: () => void): number;

/**
 * In the page: when (wall-clock milliseconds) the picture of `#stream` changed during `ms`,
 * sampled at every animation frame. vivid's frame counters (top left) change in every frame; only that
 * corner is copied, to leave the host's CPU to the guest.
 */
function pictureChangeTimes(ms: number): Promise<number[]> {
  const img = document.getElementById("stream") as HTMLImageElement;
  const canvas = document.createElement("canvas");
  canvas.width = Math.min(320, img.naturalWidth);
  canvas.height = 48;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  let last = 0;
  const times: number[] = [];
  const start = performance.now();
  return new Promise((resolve) => {
    const tick = () => {
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let hash = 0;
      for (let i = 0; i < data.length; i += 4) hash = (hash * 31 + data[i]) | 0;
      const now = performance.now();
      if (times.length === 0 || hash !== last) times.push(performance.timeOrigin + now);
      last = hash;
      if (now - start < ms) requestAnimationFrame(tick);
      else resolve(times);
    };
    requestAnimationFrame(tick);
  });
}

/** In the page: `#stream`'s natural size and its RGB at each of `points`. */
function pixelsInPage(points: number[][]): { size: string; pixels: number[][] } {
  const img = document.getElementById("stream") as HTMLImageElement;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  return {
    size: `${img.naturalWidth}x${img.naturalHeight}`,
    pixels: points.map(([x, y]) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]),
  };
}
