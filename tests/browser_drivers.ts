/**
 * One small interface over the three browser engines the tests drive: Chromium through
 * playwright-core (CDP), Firefox through puppeteer-core (WebDriver BiDi: Debian has no
 * geckodriver), and WebKitGTK through WebKitWebDriver (W3C WebDriver classic, with the tiny
 * HTTP client below rather than selenium or webdriverio), each with Debian's own binary. No
 * package may download a browser (`PUPPETEER_SKIP_DOWNLOAD`; playwright-core never does).
 *
 * What the tests need of a browser is what a person does with one: open a page, click, look at
 * the screen (a screenshot's pixel), and read the page (`evaluate`).
 *
 * @module
 */
import { type Browser as PwBrowser, chromium, type Page as PwPage } from "playwright-core";
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from "puppeteer-core";
import { Image } from "imagescript";

/** A browser engine. */
export type Engine = "chromium" | "firefox" | "webkit";

/** A colour as painted: red, green, blue. */
export type Rgb = [number, number, number];

/** A browser with one page open, as the tests drive it. */
export interface BrowserDriver {
  /** The engine. */
  readonly engine: Engine;
  /** The browser's name and version, for messages. */
  readonly version: string;
  /**
   * Loads `url`; resolves once its document is parsed (Chromium, Firefox) or loaded (WebKit; the
   * load event of a page with a multipart `<img>` comes with the image's first part).
   */
  open(url: string): Promise<void>;
  /**
   * Evaluates the JavaScript expression `expression` in the page and resolves with its value
   * (awaited when it is a promise; it must be JSON-serialisable).
   */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Clicks the centre of the first element matching the CSS `selector`. */
  click(selector: string): Promise<void>;
  /**
   * The colour painted at the centre of the first element matching `selector`, from a
   * screenshot: what is on screen, not what the page's script can read.
   */
  centreColour(selector: string): Promise<Rgb>;
  /** Script errors the page has thrown since it was opened (see each engine for what is seen). */
  errors(): Promise<string[]>;
  /** Closes the browser and everything it started. Never throws. */
  close(): Promise<void>;
}

/** The viewport every engine gets. */
export const VIEWPORT = { width: 800, height: 600 } as const;

/** Where Debian puts each engine. */
export const BINARIES = {
  chromium: "/usr/bin/chromium",
  firefox: "/usr/lib/firefox-esr/firefox-esr",
  webkitDriver: "/usr/bin/WebKitWebDriver",
  miniBrowser: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
  xvfb: "/usr/bin/Xvfb",
} as const;

/** Chromium's flags: as root it needs --no-sandbox; the rest keep it off the network. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Longest any single browser command may take before the test fails instead of hanging. */
const COMMAND_TIMEOUT_MS = 30_000;

/** A browser that could not be started or driven; `cause` has the engine's own error. */
export class BrowserDriverError extends Error {
  /** @param message what failed, naming the engine; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrowserDriverError";
  }
}

/** Starts `engine` with one blank page of {@link VIEWPORT} size. Close it with `close()`. */
export async function launchBrowser(engine: Engine): Promise<BrowserDriver> {
  switch (engine) {
    case "chromium":
      return await launchChromium();
    case "firefox":
      return await launchFirefox();
    case "webkit":
      return await launchWebKit();
    default:
      throw new TypeError(`Unknown browser engine ${JSON.stringify(engine)}`);
  }
}

/** The colour of pixel (`x`, `y`) of a PNG, counted from 0 and clamped to the image. */
async function pngPixel(png: Uint8Array, x: number, y: number): Promise<Rgb> {
  const image = await Image.decode(png);
  if (!(image instanceof Image)) throw new TypeError("The screenshot is not a still image");
  const px = Math.min(Math.max(Math.floor(x), 0), image.width - 1);
  const py = Math.min(Math.max(Math.floor(y), 0), image.height - 1);
  // imagescript counts pixels from 1.
  const [r, g, b] = Image.colorToRGBA(image.getPixelAt(px + 1, py + 1));
  return [r, g, b];
}

/** A script expression: [x, y] of the centre of the element matching `selector`, or null. */
function centreScript(selector: string): string {
  return "(function (el) { if (!el) return null; var r = el.getBoundingClientRect();" +
    " return [r.left + r.width / 2, r.top + r.height / 2]; })(document.querySelector(" +
    JSON.stringify(selector) + "))";
}

/** The viewport coordinates of the centre of the element matching `selector`. */
async function centreOf(
  evaluate: (expression: string) => Promise<unknown>,
  selector: string,
): Promise<[number, number]> {
  const centre = await evaluate(centreScript(selector)) as [number, number] | null;
  if (!centre) throw new BrowserDriverError(`No element matches ${selector}`);
  return centre;
}

/** A 1×1 clip at (`x`, `y`), rounded down to whole CSS pixels. */
function clipAt(x: number, y: number) {
  return { x: Math.floor(x), y: Math.floor(y), width: 1, height: 1 };
}

// ---------------------------------------------------------------------------------------------
// Chromium: playwright-core over CDP.

/**
 * Debian's Chromium under playwright-core with {@link CHROMIUM_ARGS} (and `extraArgs`), for
 * tests that drive playwright's own API rather than a {@link BrowserDriver}. Close it yourself.
 */
export function launchPlaywrightChromium(extraArgs: readonly string[] = []): Promise<PwBrowser> {
  return chromium.launch({
    executablePath: BINARIES.chromium,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: COMMAND_TIMEOUT_MS,
  });
}

async function launchChromium(): Promise<BrowserDriver> {
  const browser: PwBrowser = await chromium.launch({
    executablePath: BINARIES.chromium,
    args: [...CHROMIUM_ARGS],
    timeout: COMMAND_TIMEOUT_MS,
  });
  try {
    const context = await browser.newContext({ viewport: { ...VIEWPORT } });
    const page: PwPage = await context.newPage();
    page.setDefaultTimeout(COMMAND_TIMEOUT_MS);
    const cdp = await context.newCDPSession(page);
    let errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    return {
      engine: "chromium",
      version: `Chromium ${browser.version()}`,
      async open(url) {
        errors = [];
        await page.goto(url, { waitUntil: "domcontentloaded" });
      },
      evaluate: <T>(expression: string) => page.evaluate(expression) as Promise<T>,
      click: (selector) => page.click(selector),
      async centreColour(selector) {
        const [x, y] = await centreOf((e) => page.evaluate(e), selector);
        // CDP's own screenshot: playwright's page.screenshot() adds ~50 ms of bookkeeping
        // (caret hiding, font waits) that would blur a latency measurement.
        const { data } = await cdp.send("Page.captureScreenshot", {
          format: "png",
          clip: { ...clipAt(x, y), scale: 1 },
        });
        return await pngPixel(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)), 0, 0);
      },
      errors: () => Promise.resolve([...errors]),
      async close() {
        await browser.close().catch(() => {});
      },
    };
  } catch (err) {
    await browser.close().catch(() => {});
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Firefox: puppeteer-core over WebDriver BiDi.

async function launchFirefox(): Promise<BrowserDriver> {
  // puppeteer-core itself never downloads; this keeps anything it loads from trying either.
  Deno.env.set("PUPPETEER_SKIP_DOWNLOAD", "1");
  let browser: PpBrowser;
  try {
    browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: BINARIES.firefox,
      headless: true,
      timeout: COMMAND_TIMEOUT_MS,
      protocolTimeout: COMMAND_TIMEOUT_MS,
      defaultViewport: { ...VIEWPORT },
      // The test runner owns the process's signals.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (cause) {
    throw new BrowserDriverError(`Cannot start Firefox (${BINARIES.firefox})`, { cause });
  }
  try {
    const page: PpPage = (await browser.pages())[0] ?? await browser.newPage();
    page.setDefaultTimeout(COMMAND_TIMEOUT_MS);
    let errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    return {
      engine: "firefox",
      version: await browser.version(),
      async open(url) {
        errors = [];
        await page.goto(url, { waitUntil: "domcontentloaded" });
      },
      evaluate: <T>(expression: string) => page.evaluate(expression) as Promise<T>,
      click: (selector) => page.click(selector),
      async centreColour(selector) {
        const [x, y] = await centreOf((e) => page.evaluate(e), selector);
        // A screenshot, not the page's own canvas: Firefox's ctx.drawImage(img) keeps drawing
        // the first part of a multipart image.
        const png = await page.screenshot({ clip: clipAt(x, y) });
        return await pngPixel(new Uint8Array(png), 0, 0);
      },
      errors: () => Promise.resolve([...errors]),
      async close() {
        await browser.close().catch(() => {});
      },
    };
  } catch (err) {
    await browser.close().catch(() => {});
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// WebKitGTK: WebKitWebDriver + MiniBrowser under a private Xvfb, over W3C WebDriver classic.

/** Largest WebDriver answer read (a full-viewport PNG screenshot, base64, is far smaller). */
const MAX_WEBDRIVER_ANSWER = 32 * 1024 * 1024;

/** The body of `res`, refusing more than `max` bytes. */
async function readBounded(res: Response, max: number, what: string): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new BrowserDriverError(`${what}: the answer is over ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** A port nobody listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Kills `child` (SIGTERM, then SIGKILL after 3 s) and waits for it to be gone. */
async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }, 3000);
  await child.status;
  clearTimeout(timer);
}

/**
 * Starts Xvfb on a display it picks itself (`-displayfd`: no guessing a free number, no race
 * with another test run), and resolves with the process and its display (":N").
 */
async function startXvfb(): Promise<{ process: Deno.ChildProcess; display: string }> {
  const process = new Deno.Command(BINARIES.xvfb, {
    args: ["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => reader.cancel().catch(() => {}), 10_000);
  try {
    while (!text.includes("\n") && text.length < 64) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    clearTimeout(timer);
  }
  const number = text.trim();
  // Xvfb writes nothing more: close our end of its stdout.
  await reader.cancel().catch(() => {});
  if (!/^\d+$/.test(number)) {
    await stop(process);
    throw new BrowserDriverError(`Xvfb did not report a display number (got "${number}")`);
  }
  return { process, display: `:${number}` };
}

/** A W3C WebDriver error answer: `error` is the spec's error code. */
interface WebDriverFailure {
  error: string;
  message: string;
}

async function launchWebKit(): Promise<BrowserDriver> {
  const xvfb = await startXvfb();
  const port = freePort();
  let driver: Deno.ChildProcess;
  try {
    driver = new Deno.Command(BINARIES.webkitDriver, {
      args: [`--port=${port}`, "--host=127.0.0.1"],
      // No accessibility bus under Xvfb. Do not set WEBKIT_DISABLE_DMABUF_RENDERER or
      // WEBKIT_DISABLE_COMPOSITING_MODE: screenshots would then wait for the next repaint.
      env: { DISPLAY: xvfb.display, NO_AT_BRIDGE: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (cause) {
    await stop(xvfb.process);
    throw new BrowserDriverError(`Cannot start ${BINARIES.webkitDriver}`, { cause });
  }
  const base = `http://127.0.0.1:${port}`;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const what = `WebKitWebDriver ${method} ${path}`;
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
      });
    } catch (cause) {
      throw new BrowserDriverError(`${what} failed`, { cause });
    }
    const text = await readBounded(res, MAX_WEBDRIVER_ANSWER, what);
    let answer: { value: T | WebDriverFailure };
    try {
      answer = JSON.parse(text);
    } catch (cause) {
      throw new BrowserDriverError(`${what}: HTTP ${res.status}, not JSON`, { cause });
    }
    if (!res.ok) {
      const failure = answer.value as WebDriverFailure;
      throw new BrowserDriverError(`${what}: ${failure.error}: ${failure.message}`);
    }
    return answer.value as T;
  }

  let session = "";
  const cleanUp = async () => {
    if (session) await call("DELETE", `/session/${session}`).catch(() => {});
    session = "";
    await stop(driver);
    // MiniBrowser exits with its display, should it have outlived the session.
    await stop(xvfb.process);
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await fetch(`${base}/status`).then(async (r) => {
        await r.body?.cancel();
        return r.ok;
      }, () => false);
      if (up) break;
      if (Date.now() > deadline) {
        throw new BrowserDriverError(`WebKitWebDriver did not answer on port ${port} in 10 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const created = await call<{ sessionId: string; capabilities: Record<string, unknown> }>(
      "POST",
      "/session",
      {
        capabilities: {
          alwaysMatch: {
            browserName: "MiniBrowser",
            // "normal" (wait for the load event, which a multipart <img> fires on its first
            // part): with "eager" the script run right after a navigation now and then got no
            // answer (2 of 12 here, each a 30 s timeout).
            pageLoadStrategy: "normal",
            // The driver's own limits, below this client's, so that it answers with an error.
            timeouts: { pageLoad: 20_000, script: 20_000, implicit: 0 },
            "webkitgtk:browserOptions": { binary: BINARIES.miniBrowser, args: ["--automation"] },
          },
        },
      },
    );
    session = created.sessionId;
    const s = `/session/${session}`;
    // The window holds a toolbar: grow it until the page itself gets VIEWPORT.
    const js = <T>(script: string) => call<T>("POST", `${s}/execute/sync`, { script, args: [] });
    const inner = () => js<[number, number]>("return [innerWidth, innerHeight];");
    // GTK applies a resize when the X server has configured the window, which may be after
    // the driver answered (seen once in a `make check` here: the old 1024×730 read back): so
    // the resize is asked again, and the size read again, until it holds or 5 s have passed.
    // The window size wanted is worked out once, from the first reading.
    const [w0, h0] = await inner();
    const rect = await call<{ width: number; height: number }>("GET", `${s}/window/rect`);
    const wanted = {
      width: rect.width + VIEWPORT.width - w0,
      height: rect.height + VIEWPORT.height - h0,
    };
    const sizeBy = Date.now() + 5_000;
    for (;;) {
      await call("POST", `${s}/window/rect`, wanted);
      const [w, h] = await inner();
      if (w === VIEWPORT.width && h === VIEWPORT.height) break;
      if (Date.now() > sizeBy) {
        throw new BrowserDriverError(`WebKit's viewport is ${w}×${h}, not the size asked for`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const version = `MiniBrowser (WebKitGTK) ${created.capabilities.browserVersion}`;
    /** The WebDriver id of the first element matching `selector`. */
    const find = async (selector: string): Promise<string> => {
      const found = await call<Record<string, string>>("POST", `${s}/element`, {
        using: "css selector",
        value: selector,
      });
      // The answer is {"element-6066-11e4-a52e-4f735466cecf": id}, the spec's fixed key.
      return Object.values(found)[0];
    };
    return {
      engine: "webkit",
      version,
      async open(url) {
        await call("POST", `${s}/url`, { url });
        // Classic WebDriver has no error event: collect from here on (a script error while
        // the page loads is missed, but then the page would fail the tests' other checks).
        await js(
          "window.__errors = []; addEventListener('error', function (e) {" +
            " window.__errors.push(String(e.message)); });" +
            " addEventListener('unhandledrejection', function (e) {" +
            " window.__errors.push('Unhandled rejection: ' + String(e.reason)); }); return 0;",
        );
      },
      // A `return` followed by a line break would return undefined: keep it on one line.
      evaluate: <T>(expression: string) => js<T>(`return (${expression});`),
      async click(selector) {
        await call("POST", `${s}/element/${await find(selector)}/click`, {});
      },
      async centreColour(selector) {
        const centre = await js<[number, number] | null>(`return ${centreScript(selector)};`);
        if (!centre) throw new BrowserDriverError(`No element matches ${selector}`);
        // The whole viewport (~60 ms of PNG work): WebKit's element screenshots of a
        // multipart <img> come out black, and W3C WebDriver has no clipped screenshot.
        // Device pixel ratio is 1 under Xvfb.
        const b64 = await call<string>("GET", `${s}/screenshot`);
        return await pngPixel(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), ...centre);
      },
      errors: () => js<string[]>("return window.__errors || [];"),
      close: cleanUp,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
