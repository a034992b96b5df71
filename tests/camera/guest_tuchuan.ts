/**
 * tuchuan running inside the camera VM (`deno run -A main.ts ARGS` on the guest's vivid camera),
 * served to the host on a forwarded port, so host-side clients (ffmpeg, OpenCV, Chromium) read
 * it as they would read a camera server on the network.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type CameraVm, type GuestProcess, poll, PROJECT_DIR } from "./camera_vm.ts";

/** Longest tuchuan may take to print its banner in the guest (Deno starts in ~5 s under TCG). */
const START_TIMEOUT_MS = 60_000;

/** One tuchuan process in the guest. */
export class GuestTuchuan {
  readonly #vm: CameraVm;
  readonly #process: GuestProcess;
  readonly #port: { guest: number; host: number };
  /** `http://127.0.0.1:PORT/` on the host. */
  readonly url: string;
  /** What it printed up to and including its banner. */
  readonly banner: string;

  private constructor(
    vm: CameraVm,
    process: GuestProcess,
    port: { guest: number; host: number },
    banner: string,
  ) {
    this.#vm = vm;
    this.#process = process;
    this.#port = port;
    this.url = `http://127.0.0.1:${port.host}/`;
    this.banner = banner;
  }

  /**
   * Starts `tuchuan ARGS` in the guest, listening on a forwarded port, and resolves once its
   * banner is out, fluent-ffmpeg has looked at ffmpeg (two ffmpeg runs, seconds in this VM: a
   * first viewer arriving meanwhile would wait for them too) and the server answers from the
   * host. It logs at debug level, unless ARGS say otherwise.
   */
  static async start(vm: CameraVm, args: string[]): Promise<GuestTuchuan> {
    const port = vm.takePort();
    let process: GuestProcess | null = null;
    try {
      process = await vm.spawn(Deno.execPath(), [
        "run",
        "-A",
        "--cached-only",
        // The lock resolves npm packages as the host's cache holds them (read-only, never
        // written): without it Deno wants each package's registry.json, which a cache filled
        // from the lock lacks (fluent-ffmpeg's `async` was "not found in cache").
        "--frozen",
        `${PROJECT_DIR}/main.ts`,
        "--host",
        "0.0.0.0",
        "--port",
        String(port.guest),
        ...(args.includes("--log-level") ? [] : ["--log-level", "debug"]),
        ...args,
      ]);
      await process.waitForOutput(
        /live MJPEG on port \d+[\s\S]*?Encoder:.*\n/,
        "the banner",
        START_TIMEOUT_MS,
      );
      if (!args.includes("--log-level")) {
        await process.waitForOutput(/ffmpeg is ready/, "ffmpeg to be looked up", START_TIMEOUT_MS);
      }
      const banner = await process.output();
      const server = new GuestTuchuan(vm, process, port, banner);
      await poll("tuchuan to answer from the host", async () => {
        const res = await fetch(new URL("healthz", server.url), {
          signal: AbortSignal.timeout(2000),
        });
        await res.body?.cancel();
        return true;
      }, 10_000);
      return server;
    } catch (err) {
      if (process) await process.stop();
      vm.returnPort(port);
      throw err;
    }
  }

  /** Everything it has printed so far (banner and log). */
  log(): Promise<string> {
    return this.#process.output();
  }

  /** Waits until its log matches `pattern`. */
  waitForLog(pattern: RegExp, what: string, timeoutMs = 10_000): Promise<RegExpExecArray> {
    return this.#process.waitForOutput(pattern, what, timeoutMs);
  }

  /** `GET /state` (or a camera's `/NAME/state`) as JSON. */
  // deno-lint-ignore no-explicit-any
  async state(path = "state"): Promise<any> {
    const res = await fetch(new URL(path, this.url), { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `/state answered ${res.status}`);
    return await res.json();
  }

  /** `GET /healthz`: status and body. */
  // deno-lint-ignore no-explicit-any
  async health(): Promise<{ status: number; body: any }> {
    const res = await fetch(new URL("healthz", this.url), { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.json() };
  }

  /** Stops it (SIGTERM: tuchuan ends its streams and ffmpeg) and frees its port. */
  async stop(): Promise<void> {
    try {
      const state = await this.#process.stop();
      assert.ok(!state.running, "tuchuan did not exit");
    } finally {
      this.#vm.returnPort(this.#port);
    }
  }
}

/** `err` with the tail of the server's log added: the server's own words explain most failures. */
export async function withLog(err: unknown, server: GuestTuchuan): Promise<Error> {
  const log = await server.log().catch(() => "");
  return new Error(`${(err as Error)?.message ?? err}\n--- tuchuan log ---\n${log.slice(-4000)}`, {
    cause: err,
  });
}

/** A test step that, when it fails, says what the server logged. */
export function step(
  t: Deno.TestContext,
  server: GuestTuchuan,
  name: string,
  fn: () => Promise<void>,
): Promise<boolean> {
  return t.step(name, async () => {
    try {
      await fn();
    } catch (err) {
      throw await withLog(err, server);
    }
  });
}

/** Runs `body` with a tuchuan started with `args`, stopping it whatever happens. */
export async function withTuchuan(
  vm: CameraVm,
  args: string[],
  body: (server: GuestTuchuan) => Promise<void>,
): Promise<void> {
  const server = await GuestTuchuan.start(vm, args);
  try {
    await body(server);
  } catch (err) {
    throw await withLog(err, server);
  } finally {
    await server.stop();
  }
}
