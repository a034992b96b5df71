/**
 * The viewer page in headless Chromium (playwright-core), for what the engine-independent
 * browser tests (browser_scenarios.ts, run in Chromium, Firefox and WebKit) do not cover: the
 * status bar's figures and fullscreen, the snapshot buttons downloading real images, the page
 * under a proxy sub-path with a `?token=` finding its way back after the server restarts, a
 * refused stream retried, and the camera controls panel (shown for a source with controls, each
 * change sent to the camera and its answer shown; hidden when `controls` answers 404).
 *
 * Skipped (with a message) when /usr/bin/chromium is absent.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Image } from "imagescript";
import { type RunningServer, startServer } from "../src/server.ts";
import type { Config } from "../src/config/config.ts";
import type { Source } from "../src/source/source.ts";
import {
  type CameraControls,
  checkControls,
  type ControlWriteResult,
  listedControls,
  writeOrder,
} from "../src/source/v4l2/camera_controls.ts";
import type { V4l2Control } from "../src/source/v4l2/v4l2_parse.ts";
import { colourJpegs, ColourSource, PALETTE } from "./browser_colour_source.ts";
import { launchPlaywrightChromium } from "./browser_drivers.ts";
import { requires } from "./tools.ts";

// The callbacks given to page.evaluate() run in Chromium. Rather than loading the DOM lib (its
// stream types clash with Deno's when every test is type-checked together), declare the little
// of the DOM they use.
interface HTMLImageElement {
  naturalWidth: number;
}
interface Context2d {
  drawImage(img: HTMLImageElement, x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: "2d", options?: { willReadFrequently?: boolean }): Context2d | null;
}
declare const document: {
  getElementById(id: string): unknown;
  createElement(tag: "canvas"): Canvas;
  fullscreenElement: { id: string } | null;
};

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------
// Helpers

/** Polls `probe` until it returns something truthy, or fails naming `what`. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 5000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// deno-lint-ignore no-explicit-any
async function getState(server: RunningServer, token?: string): Promise<Record<string, any>> {
  const url = new URL("state", server.url);
  if (token) url.searchParams.set("token", token);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return await res.json();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** A PNG of what the `<img id="stream">` shows right now. */
async function shot(page: Page): Promise<Uint8Array> {
  return new Uint8Array(await page.locator("#stream").screenshot({ animations: "disabled" }));
}

/** Waits until the stream image shows two different pictures in a row. */
async function waitForNewPicture(page: Page, timeoutMs = 5000): Promise<void> {
  const first = await shot(page);
  await waitFor(
    "the picture to change",
    async () => !sameBytes(first, await shot(page)),
    timeoutMs,
  );
}

interface Viewer {
  server: RunningServer;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Every response the page got: its path and status. */
  responses: { path: string; status: number }[];
}

/**
 * Starts a server and a browser on its viewer page, runs `fn`, and cleans everything up. Fails
 * the test when the page threw a script error.
 */
async function withViewer(
  config: Partial<Config>,
  source: Source | undefined,
  fn: (v: Viewer) => Promise<void>,
  beforeLoad?: (server: RunningServer) => Promise<void>,
  path = "",
): Promise<void> {
  const server = await startServer({ port: 0, host: "127.0.0.1", ...config }, { source });
  let browser: Browser | null = null;
  try {
    await beforeLoad?.(server);
    browser = await launchPlaywrightChromium();
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 800, height: 600 },
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    const responses: Viewer["responses"] = [];
    page.on("response", (res) => {
      responses.push({ path: new URL(res.url()).pathname, status: res.status() });
    });
    await page.goto(new URL(path, server.url).href);
    await fn({ server, browser, context, page, responses });
    assert.deepEqual(pageErrors, [], "the viewer page threw script errors");
  } finally {
    await browser?.close();
    await server.stop();
  }
}

/** Waits (bounded) for the stream image to have a picture, then asserts it does. */
async function expectPicture(page: Page, timeoutMs = 2000): Promise<number> {
  const width = () =>
    page.evaluate(() => (document.getElementById("stream") as HTMLImageElement).naturalWidth);
  await waitFor("the stream image to load", async () => (await width()) > 0, timeoutMs).catch(
    () => {},
  );
  const w = await width();
  assert.ok(w > 0, `the stream image shows nothing ${timeoutMs} ms after load`);
  return w;
}

// ---------------------------------------------------------------------------------------------
// Tests

Deno.test(requires(["chromium"], {
  name: "viewer: the stream shows within 2 s, frames advance, status bar has size and viewers, " +
    "fullscreen works, no controls panel for a source without controls",
  async fn() {
    await withViewer({ source: FIXTURE }, undefined, async ({ page, responses }) => {
      // 1. A picture within 2 s of loading the page.
      assert.equal(await expectPicture(page), 320);
      // 2. It moves: two screenshots of the image differ.
      await waitForNewPicture(page);
      // 7. The status bar: resolution, at least one viewer, live, a measured frame rate.
      await waitFor("the status bar to fill in", async () => {
        return (await page.textContent("#st-res")) === "320×240" &&
          Number(await page.textContent("#st-fps")) > 0;
      }, 5000);
      assert.equal(await page.textContent("#st-res"), "320×240");
      const viewers = /^(\d+) viewers?$/.exec((await page.textContent("#st-clients")) ?? "");
      assert.ok(viewers, "the status bar names the viewer count");
      assert.ok(Number(viewers[1]) >= 1, `viewer count ${viewers[1]} should include this page`);
      assert.equal(await page.textContent("#st-online"), "Live");
      const fps = Number(await page.textContent("#st-fps"));
      assert.ok(fps > 0 && fps < 100, `frame rate ${fps} should be the measured one`);
      // Fullscreen puts the picture's container (not the whole page) in fullscreen, and back.
      const fullscreenId = () => page.evaluate(() => document.fullscreenElement?.id ?? null);
      await page.click("#fullscreen");
      await waitFor("fullscreen", async () => (await fullscreenId()) === "view");
      // Only the container is visible now, so the way out must be inside it.
      await page.click("#fs-exit");
      await waitFor("fullscreen to end", async () => (await fullscreenId()) === null);
      // A recording has no camera controls: `controls` answers 404 and the panel stays hidden.
      const answer = await waitFor(
        "the page to ask for controls",
        () => responses.find((r) => r.path === "/controls"),
      );
      assert.equal(answer.status, 404);
      assert.equal(await page.isHidden("#controls"), true, "a controls panel with no controls");
    });
  },
}));

Deno.test(requires(["chromium"], {
  name: "viewer: the snapshot buttons download a decodable PNG and JPEG",
  async fn() {
    await withViewer({ source: FIXTURE }, undefined, async ({ page }) => {
      await expectPicture(page);
      for (const [button, ext] of [["#snap-png", "png"], ["#snap-jpg", "jpg"]]) {
        const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
        assert.match(download.suggestedFilename(), new RegExp(`^tuchuan-\\d{8}-\\d{6}\\.${ext}$`));
        const path = await download.path();
        const bytes = await Deno.readFile(path);
        const magic = ext === "png" ? [0x89, 0x50, 0x4e, 0x47] : [0xff, 0xd8, 0xff];
        assert.deepEqual([...bytes.subarray(0, magic.length)], magic, `${ext} magic bytes`);
        const image = await Image.decode(bytes);
        assert.equal(image.width, 320);
        assert.equal(image.height, 240);
      }
      // A cache-buster on each click: two downloads never share a URL a cache could answer.
      const href = await page.getAttribute("#snap-png", "href");
      assert.match(href ?? "", /^snapshot\.png\?_=[0-9a-z]+$/);
    });
  },
}));

Deno.test(requires(["chromium"], {
  name: "viewer: works under a proxy sub-path with ?token=, and reconnects after a restart",
  async fn() {
    const token = "s3cret-token";
    const green = new ColourSource(await colourJpegs([PALETTE[1]]), 200);
    let upstream = await startServer({ port: 0, source: FIXTURE, token });
    const port = upstream.port;
    // A tiny reverse proxy serving tuchuan under /cam/, as nginx would.
    const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const url = new URL(req.url);
      if (!url.pathname.startsWith("/cam/")) {
        return new Response("not under /cam/", { status: 404 });
      }
      const target = `http://127.0.0.1:${port}/${url.pathname.slice(5)}${url.search}`;
      try {
        const res = await fetch(target, {
          method: req.method,
          headers: req.headers,
          // No request.signal: a viewer leaving cancels `res.body`, which ends this fetch.
        });
        return new Response(res.body, { status: res.status, headers: res.headers });
      } catch {
        return new Response("upstream down", { status: 502 });
      }
    });
    let browser: Browser | null = null;
    try {
      browser = await launchPlaywrightChromium();
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (err) => pageErrors.push(String(err)));
      await page.goto(`http://127.0.0.1:${proxy.addr.port}/cam/?token=${token}`);

      await expectPicture(page);
      await waitFor(
        "the status bar to fill in",
        async () => (await page.textContent("#st-res")) === "320×240",
      );
      assert.equal(
        await page.getAttribute("#snap-jpg", "href"),
        `snapshot.jpg?token=${token}`,
        "the snapshot link carries the token",
      );

      // The server goes away: the page says so.
      await upstream.stop();
      await waitFor(
        "the status bar to say Disconnected",
        async () => (await page.textContent("#st-online")) === "Disconnected",
        5000,
      );

      // A new server on the same port, now showing solid green: the page picks it up by itself.
      upstream = await startServer({ port, source: "unused", token }, { source: green });
      const centre = () =>
        page.evaluate(() => {
          const img = document.getElementById("stream") as HTMLImageElement;
          if (!img.naturalWidth) return null;
          const c = document.createElement("canvas");
          c.width = c.height = 4;
          const g = c.getContext("2d")!;
          g.drawImage(img, 0, 0, 4, 4);
          return [...g.getImageData(2, 2, 1, 1).data.slice(0, 3)];
        });
      const [r, g, b] = PALETTE[1];
      await waitFor(
        "the picture to come back, green",
        async () => {
          const px = await centre();
          return px && Math.abs(px[0] - r) < 40 && Math.abs(px[1] - g) < 40 &&
            Math.abs(px[2] - b) < 40;
        },
        10_000,
        100,
      );
      await waitFor(
        "the status bar to say Live",
        async () => (await page.textContent("#st-online")) === "Live",
        5000,
      );
      // One stream per page, not one per reconnect attempt.
      await waitFor(
        "exactly one viewer",
        async () => (await getState(upstream, token)).clients === 1,
      );
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser?.close();
      await upstream.stop();
      await proxy.shutdown();
    }
  },
}));

Deno.test(requires(["chromium"], {
  name: "viewer: a refused stream (max clients) is retried until the picture shows",
  async fn() {
    let occupier: Response | null = null;
    try {
      await withViewer({ source: FIXTURE, maxClients: 1 }, undefined, async ({ server, page }) => {
        // The only slot is taken when the page loads: its image is refused (503).
        await waitFor(
          "the page's stream to be refused",
          () => server.cameras[0].metrics.clientsRejected > 0,
        );
        await waitFor(
          "the page to say it is reconnecting",
          async () => (await page.textContent("#notice")) === "Reconnecting…",
        );
        // The other viewer leaves: the page's backoff retry gets the slot without a reload.
        await occupier?.body?.cancel();
        occupier = null;
        await expectPicture(page, 8000);
        await waitForNewPicture(page);
        await waitFor("the notice to clear", () => page.isHidden("#notice"));
      }, async (server) => {
        occupier = await fetch(new URL("stream", server.url));
        assert.equal(occupier.status, 200);
      });
    } finally {
      await (occupier as Response | null)?.body?.cancel();
    }
  },
}));

// ---------------------------------------------------------------------------------------------
// The camera controls panel

/** What the fake camera starts with: one control of each kind the panel shows. */
const FAKE_CONTROLS: readonly V4l2Control[] = [
  { name: "brightness", id: 0x00980900, type: "int", rawType: "int", min: 0, max: 255, step: 1 },
  { name: "sharpness", id: 0x0098091b, type: "int", rawType: "int", min: 0, max: 7, step: 1 },
  { name: "white_balance_automatic", id: 0x0098090c, type: "bool", rawType: "bool" },
  {
    name: "white_balance_temperature",
    id: 0x0098091a,
    type: "int",
    rawType: "int",
    min: 2800,
    max: 6500,
    step: 10,
  },
  {
    name: "power_line_frequency",
    id: 0x00980918,
    type: "menu",
    rawType: "menu",
    min: 0,
    max: 2,
    menu: [{ value: 0, label: "Disabled" }, { value: 1, label: "50 Hz" }, {
      value: 2,
      label: "60 Hz",
    }],
  },
  { name: "privacy", id: 0x009a0910, type: "bool", rawType: "bool" },
  {
    name: "focus_absolute",
    id: 0x009a090a,
    type: "int",
    rawType: "int",
    min: 0,
    max: 250,
    step: 5,
  },
  { name: "pan_reset", id: 0x009a0906, type: "button", rawType: "button" },
].map((c) =>
  ({
    ...c,
    default: { brightness: 128, sharpness: 3, white_balance_temperature: 4600 }[c.name] ??
      (c.type === "button" ? undefined : 1),
    value: c.type === "button" ? undefined : {
      brightness: 128,
      sharpness: 3,
      white_balance_temperature: 4600,
      privacy: 0,
      focus_absolute: 0,
    }[c.name] ?? 1,
    flags: {
      white_balance_temperature: ["inactive"],
      privacy: ["read-only"],
      pan_reset: ["write-only"],
    }[c.name] ?? [],
    group: c.name === "focus_absolute" || c.name === "pan_reset" || c.name === "privacy"
      ? "Camera Controls"
      : "User Controls",
  }) as V4l2Control
);

/**
 * A camera's controls in memory, checked as a real camera's are (camera_controls.ts), with the
 * ways real cameras answer: sharpness only in even steps (the value read back differs from the
 * one asked), focus refused by the device, the white balance temperature inactive while
 * automatic white balance is on.
 */
class FakeCameraControls implements CameraControls {
  controls: V4l2Control[] = FAKE_CONTROLS.map((c) => ({ ...c }));
  /** Every value written, in order. */
  readonly written: { name: string; value: number }[] = [];

  list() {
    return Promise.resolve(listedControls(this.controls));
  }

  value(name: string): number | undefined {
    return this.controls.find((c) => c.name === name)?.value;
  }

  set(values: readonly { name: string; value: unknown }[]): Promise<ControlWriteResult[]> {
    const checked = checkControls(this.controls, values); // throws ControlError: 400
    return Promise.resolve(
      writeOrder(checked).map(({ name, value }): ControlWriteResult => {
        this.written.push({ name, value });
        if (name === "focus_absolute") {
          return { name, asked: value, value: null, error: "Input/output error" };
        }
        const stored = name === "sharpness" ? value - (value % 2) : value;
        this.controls = this.controls.map((c) => {
          if (c.name === name && c.type !== "button") return { ...c, value: stored };
          if (name === "white_balance_automatic" && c.name === "white_balance_temperature") {
            return { ...c, flags: stored ? ["inactive"] : [] };
          }
          return c;
        });
        return {
          name,
          asked: value,
          value: this.controls.find((c) => c.name === name)!.value ?? null,
          error: null,
        };
      }),
    );
  }

  nameOf(id: number) {
    return Promise.resolve(this.controls.find((c) => c.id === id)?.name ?? null);
  }
}

Deno.test(requires(["chromium"], {
  name: "viewer: the camera controls panel shows each control, sets it, shows the camera's answer",
  async fn() {
    const token = "panel-token";
    const colour = new ColourSource(await colourJpegs(PALETTE.slice(0, 2)), 200);
    const controls = new FakeCameraControls();
    const source: Source = {
      kind: "replay",
      input: colour.input,
      offer: colour.offer,
      facts: () => colour.facts(),
      frames: (signal) => colour.frames(signal),
      controls,
    };
    await withViewer(
      { token },
      source,
      async ({ page }) => {
        const posted: { url: URL; body: unknown }[] = [];
        page.on("request", (req) => {
          const url = new URL(req.url());
          if (req.method() === "POST" && url.pathname === "/controls") {
            posted.push({ url, body: JSON.parse(req.postData() ?? "null") });
          }
        });
        const result = () => page.textContent("#ctl-result");
        /** Waits for the answer to a change, then for the panel to show the camera's values. */
        const answered = async (text: string | RegExp, state: "ok" | "bad") => {
          await waitFor(`the answer "${text}"`, async () => {
            const shown = (await result()) ?? "";
            return typeof text === "string" ? shown === text : text.test(shown);
          });
          assert.equal(await page.getAttribute("#ctl-result", "data-state"), state);
        };
        const value = (selector: string) => page.inputValue(selector);

        // Collapsed at first, open on a click.
        await page.waitForSelector("#controls", { state: "visible" });
        assert.equal(await page.textContent("#controls > summary"), "Camera controls");
        assert.equal(await page.isVisible("#ctl-brightness"), false, "the panel starts collapsed");
        await page.click("#controls > summary");
        await page.waitForSelector("#ctl-brightness", { state: "visible" });

        // One input per control, of its kind, showing the camera's value, grouped as the camera
        // groups them.
        assert.deepEqual(
          await page.locator("#ctl-list legend").allTextContents(),
          ["User Controls", "Camera Controls"],
        );
        assert.equal(await page.getAttribute("#ctl-brightness", "type"), "range");
        assert.deepEqual(
          await Promise.all(
            ["min", "max", "step"].map((a) => page.getAttribute("#ctl-brightness", a)),
          ),
          ["0", "255", "1"],
        );
        assert.equal(await value("#ctl-brightness"), "128");
        assert.equal(await page.getAttribute("#ctl-brightness-value", "type"), "number");
        assert.equal(await value("#ctl-brightness-value"), "128");
        assert.equal(await page.getAttribute("#ctl-white_balance_automatic", "type"), "checkbox");
        assert.equal(await page.isChecked("#ctl-white_balance_automatic"), true);
        // Inactive while automatic white balance is on; read-only always: shown, not settable.
        assert.equal(await page.isDisabled("#ctl-white_balance_temperature"), true);
        assert.match(
          (await page.textContent("[data-name=white_balance_temperature] label"))!,
          /inactive/,
        );
        assert.equal(await page.isDisabled("#ctl-privacy"), true);
        assert.match((await page.textContent("[data-name=privacy] label"))!, /read-only/);
        assert.deepEqual(
          await page.locator("#ctl-power_line_frequency option").allTextContents(),
          ["Disabled", "50 Hz", "60 Hz"],
        );
        assert.equal(await value("#ctl-power_line_frequency"), "1");
        assert.equal(await page.textContent("button#ctl-pan_reset"), "Pan reset");

        // The slider: released at 200, the camera is set to 200.
        await page.fill("#ctl-brightness", "200");
        await answered("Brightness: 200", "ok");
        assert.equal(controls.value("brightness"), 200);
        assert.equal(await value("#ctl-brightness-value"), "200");

        // The number box: the camera takes 5 as 4, and the page says so and shows 4.
        await page.fill("#ctl-sharpness-value", "5");
        await page.press("#ctl-sharpness-value", "Enter");
        await answered("Sharpness: asked 5, the camera set 4", "ok");
        await waitFor(
          "the box to show the camera's 4",
          async () => (await value("#ctl-sharpness-value")) === "4",
        );

        // Automatic white balance off: the temperature becomes settable.
        await page.uncheck("#ctl-white_balance_automatic");
        await answered("White balance automatic: off", "ok");
        assert.equal(controls.value("white_balance_automatic"), 0);
        await waitFor(
          "the temperature to be enabled",
          () => page.isEnabled("#ctl-white_balance_temperature"),
        );
        await page.fill("#ctl-white_balance_temperature", "5000");
        await answered("White balance temperature: 5000", "ok");
        assert.equal(controls.value("white_balance_temperature"), 5000);

        await page.selectOption("#ctl-power_line_frequency", { label: "60 Hz" });
        await answered("Power line frequency: 60 Hz", "ok");
        assert.equal(controls.value("power_line_frequency"), 2);

        await page.click("#ctl-pan_reset");
        await answered("Pan reset: pressed", "ok");
        assert.deepEqual(controls.written.at(-1), { name: "pan_reset", value: 1 });

        // Out of range: the server refuses (400) naming the control, nothing changes, and the box
        // goes back to the camera's value.
        const before = controls.written.length;
        await page.fill("#ctl-brightness-value", "999");
        await page.press("#ctl-brightness-value", "Enter");
        await answered("Invalid value 999 for brightness: expected 0 to 255", "bad");
        assert.equal(await page.getAttribute("#ctl-brightness-value", "aria-invalid"), "true");
        assert.equal(controls.written.length, before, "a refused value was written");
        await waitFor(
          "the box to show 200 again",
          async () => (await value("#ctl-brightness-value")) === "200",
        );

        // The camera itself refuses: its reason is shown.
        await page.fill("#ctl-focus_absolute-value", "100");
        await page.press("#ctl-focus_absolute-value", "Enter");
        await answered("Focus absolute: the camera refused 100 (Input/output error)", "bad");

        // Every change was one POST of {"NAME": value} to `controls`, carrying the page's token.
        assert.deepEqual(posted.map((p) => p.body), [
          { brightness: 200 },
          { sharpness: 5 },
          { white_balance_automatic: false },
          { white_balance_temperature: 5000 },
          { power_line_frequency: 2 },
          { pan_reset: 1 },
          { brightness: 999 },
          { focus_absolute: 100 },
        ]);
        for (const p of posted) assert.equal(p.url.searchParams.get("token"), token, `${p.url}`);
      },
      undefined,
      `?token=${token}`,
    );
  },
}));
