/**
 * The camera VM from the host's side: boots the qemu guest made by `make camera-vm`
 * (tests/camera/vm/), whose Linux has vivid, a real V4L2 camera driver, and drives it through the
 * guest agent (guest_agent.ts): load and unload vivid with the options a test wants, press its
 * controls (`disconnect=1` is an unplug), make the `/dev/v4l/by-id` name udev would make, and
 * start tuchuan itself inside the guest, reachable from the host on a forwarded port.
 *
 * The guest shares the host's root read-only, so it runs the host's own deno, ffmpeg and
 * v4l2-ctl; the project directory and Deno's cache are shared again at their own paths, because
 * the guest's /tmp (where CI clones the repository) is a tmpfs of its own.
 *
 * qemu runs under run_guest.sh, which kills it when this process is gone; {@link CameraVm.stop}
 * (called on `unload`) kills it at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { waitFor } from "../stream_helpers.ts";

/** The project's root directory on the host, also its path in the guest. */
export const PROJECT_DIR = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const RUN_GUEST = `${PROJECT_DIR}/tests/camera/vm/run_guest.sh`;
const AGENT = `${PROJECT_DIR}/tests/camera/guest_agent.ts`;
const GUEST_AGENT_PORT = 7000;
/** Guest ports tuchuan instances listen on, each forwarded from a free host port. */
const GUEST_PORTS = [8080, 8081, 8082];
/** Longest the guest may take to boot and answer (a busy 2-core host under TCG: ~15-25 s). */
const BOOT_TIMEOUT_MS = 120_000;

/** vivid as one webcam: a single capture node with one camera input (no TV or S-Video input). */
export const WEBCAM = "n_devs=1 node_types=0x1 num_inputs=1 input_types=0x00";
/** vivid as two webcams, /dev/video0 and /dev/video1. */
export const TWO_WEBCAMS = "n_devs=2 node_types=0x1,0x1 num_inputs=1,1 input_types=0x00,0x00";

/** What a command run in the guest did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** What a process started in the guest is doing. */
export interface ProcessState {
  running: boolean;
  code: number | null;
  signal: string | null;
  /** The tail of its stdout and stderr, interleaved. */
  output: string;
}

/**
 * Polls `cond` every `everyMs` until it returns a truthy value; fails naming `what` after `ms`.
 * Most conditions ask the guest (a request, some work in an emulated CPU): 100 ms by default.
 */
export function poll<T>(
  what: string,
  cond: () => T | Promise<T>,
  ms: number,
  details?: () => string | Promise<string>,
  everyMs = 100,
): Promise<NonNullable<T>> {
  return waitFor(cond, what, ms, { details, everyMs });
}

/** A process started in the guest by the agent. */
export class GuestProcess {
  readonly #vm: CameraVm;
  /** The agent's id for it. */
  readonly id: number;
  /** Its pid in the guest. */
  readonly pid: number;

  /** Made by {@link CameraVm.spawn}. */
  constructor(vm: CameraVm, id: number, pid: number) {
    this.#vm = vm;
    this.id = id;
    this.pid = pid;
  }

  /** What it printed so far, fetched a piece at a time. */
  #output = "";

  /** What it is doing now; `output` is all it printed so far. */
  async state(): Promise<ProcessState> {
    const s = await this.#vm.agent<ProcessState>(`/proc/${this.id}?from=${this.#output.length}`);
    this.#output += s.output;
    return { ...s, output: this.#output };
  }

  /** Its output so far. */
  async output(): Promise<string> {
    return (await this.state()).output;
  }

  /** Sends `signal` to it. */
  async signal(signal: Deno.Signal = "SIGTERM"): Promise<ProcessState> {
    await this.#vm.agent(`/proc/${this.id}/signal`, { signal });
    return await this.state();
  }

  /** Waits up to `timeoutMs` for it to exit; returns what it is doing then. */
  async wait(timeoutMs: number): Promise<ProcessState> {
    await this.#vm.agent(`/proc/${this.id}/wait`, { timeoutMs });
    return await this.state();
  }

  /** Waits until its output matches `pattern` (failing if it exits first); returns the match. */
  async waitForOutput(pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpExecArray> {
    let state: ProcessState | null = null;
    return await poll(
      what,
      async () => {
        state = await this.state();
        const m = pattern.exec(state.output);
        if (m) return m;
        if (!state.running) {
          assert.fail(`The process exited (code ${state.code}) before ${what}:\n${state.output}`);
        }
        return null;
      },
      timeoutMs,
      () => `output so far:\n${state?.output ?? ""}`,
      200,
    );
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<ProcessState> {
    let state = await this.signal("SIGTERM");
    if (state.running) state = await this.wait(graceMs);
    if (state.running) {
      await this.signal("SIGKILL");
      state = await this.wait(5000);
    }
    return state;
  }
}

/** A running camera VM. */
export class CameraVm {
  readonly #child: Deno.ChildProcess;
  readonly #agentUrl: string;
  readonly #freePorts: { guest: number; host: number }[];
  /** The file the guest's console goes to. */
  readonly serialLog: string;

  private constructor(
    child: Deno.ChildProcess,
    agentUrl: string,
    ports: { guest: number; host: number }[],
    serialLog: string,
  ) {
    this.#child = child;
    this.#agentUrl = agentUrl;
    this.#freePorts = [...ports];
    this.serialLog = serialLog;
  }

  /**
   * Boots the VM in `vmDir` (vmlinuz and initrd.cpio.gz, from `make camera-vm`) and resolves once
   * the guest agent answers. Throws with the guest's console output when it does not.
   */
  static async boot(vmDir: string): Promise<CameraVm> {
    const [agentPort, ...hostPorts] = freePorts(GUEST_PORTS.length + 1);
    const ports = GUEST_PORTS.map((guest, i) => ({ guest, host: hostPorts[i] }));
    const serialLog = await Deno.makeTempFile({ prefix: "tuchuan-camera-vm-", suffix: ".log" });
    const denoDir = Deno.env.get("DENO_DIR") ??
      `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;
    const deno = Deno.execPath();
    const forwards = [
      `${agentPort}:${GUEST_AGENT_PORT}`,
      ...ports.map((p) => `${p.host}:${p.guest}`),
    ];
    const child = new Deno.Command("bash", {
      args: [RUN_GUEST],
      env: {
        VM_DIR: vmDir,
        TC_FORWARDS: forwards.join(" "),
        TC_SHARES: shares([PROJECT_DIR, realDir(denoDir), dirOf(deno)]).join(":"),
        TC_DENO: deno,
        TC_DENO_DIR: realDir(denoDir),
        TC_AGENT: AGENT,
        TC_AGENT_PORT: String(GUEST_AGENT_PORT),
        TC_SERIAL_LOG: serialLog,
        TC_WATCH_PID: String(Deno.pid),
        // A backstop only: the whole camera suite takes a few minutes.
        TIMEOUT: "1200",
      },
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    // The VM must not keep the test process alive; stop() and run_guest.sh end it.
    child.unref();
    const vm = new CameraVm(child, `http://127.0.0.1:${agentPort}`, ports, serialLog);
    let exited = false;
    // qemu refusing its arguments ends at once: say so then, not after the boot timeout.
    const gone = child.status.then((s) => {
      exited = true;
      throw new Error(`qemu exited (code ${s.code})`);
    });
    // Handled here too: qemu also exits, much later, when the suite stops it.
    gone.catch(() => {});
    try {
      await Promise.race([
        gone,
        poll("the camera VM's guest agent", async () => {
          if (exited) return true;
          const res = await fetch(`${vm.#agentUrl}/ping`, { signal: AbortSignal.timeout(2000) });
          await res.body?.cancel();
          return res.ok;
        }, BOOT_TIMEOUT_MS),
      ]);
      if (exited) await gone;
    } catch (err) {
      vm.stop();
      throw new Error(`The camera VM did not come up:\n${vm.console().slice(-3000)}`, {
        cause: err,
      });
    }
    // ffmpeg and v4l2-ctl load their libraries over 9p the first time (seconds under TCG): do it
    // once now, not inside the first test's time limits.
    await vm.run("sh", ["-c", "ffmpeg -version >/dev/null; v4l2-ctl --version >/dev/null"], 60_000);
    return vm;
  }

  /** The guest's console output so far (kernel messages, init, the agent's own errors). */
  console(): string {
    try {
      return Deno.readTextFileSync(this.serialLog);
    } catch {
      return "";
    }
  }

  /** Kills qemu (synchronous, for `unload`). */
  stop(): void {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Gone already.
    }
  }

  /** A POST (with `body`) or GET to the guest agent, answered with JSON. */
  async agent<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.#agentUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(90_000),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`Guest agent ${path}: ${json.error ?? res.status}`);
    return json as T;
  }

  /** Runs a command in the guest to completion (killed after `timeoutMs`). */
  run(cmd: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
    return this.agent("/run", { cmd, args, timeoutMs });
  }

  /** Runs a command that must succeed; returns its stdout. */
  async ok(cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
    const r = await this.run(cmd, args, timeoutMs);
    assert.equal(
      r.code,
      0,
      `${cmd} ${args.join(" ")} failed in the guest (exit ${r.code}${
        r.timedOut ? ", timed out" : ""
      }):\n${r.stderr}${r.stdout}`,
    );
    return r.stdout;
  }

  /** Starts a long-running command in the guest. */
  async spawn(cmd: string, args: string[]): Promise<GuestProcess> {
    const { id, pid } = await this.agent<{ id: number; pid: number }>("/spawn", { cmd, args });
    return new GuestProcess(this, id, pid);
  }

  /** Takes a forwarded port (guest side, host side) for a server in the guest. */
  takePort(): { guest: number; host: number } {
    const port = this.#freePorts.shift();
    assert.ok(port, "All forwarded guest ports are in use: stop a tuchuan first");
    return port;
  }

  /** Gives a port back. */
  returnPort(port: { guest: number; host: number }): void {
    this.#freePorts.push(port);
  }

  /**
   * Loads vivid afresh with `options` (unloading it first: every test starts from the driver's
   * default controls) and waits for /dev/video0. `rmmod` fails while a program has the device
   * open, so stop those first.
   */
  async loadVivid(options: string = WEBCAM): Promise<void> {
    await this.unplug();
    await this.plug(options);
  }

  /** Loads vivid with `options` (a replug) and waits for its nodes, by-id names included. */
  async plug(options: string = WEBCAM): Promise<void> {
    await this.ok("modprobe", ["-d", "/run/initrd", "vivid", ...options.split(" ")]);
    const count = Number(/n_devs=(\d+)/.exec(options)?.[1] ?? 1);
    for (let i = 0; i < count; i++) {
      await poll(`/dev/video${i}`, () => this.exists(`/dev/video${i}`), 10_000);
      await this.makeByIdName(i);
    }
  }

  /** Unloads vivid (a real unplug: /dev/video* disappear). Waits while something holds it. */
  async unplug(): Promise<void> {
    const loaded = await this.run("sh", ["-c", "grep -q '^vivid ' /proc/modules"]);
    if (loaded.code !== 0) return;
    let last: RunResult | null = null;
    await poll(
      "rmmod vivid to succeed",
      async () => {
        last = await this.run("rmmod", ["vivid"]);
        return last.code === 0;
      },
      10_000,
      () => `rmmod: ${last?.stderr}`,
    );
  }

  /**
   * Unplugs the camera while a program streams from it: vivid's `disconnect` (the streaming
   * program gets ENODEV and lets go), then `rmmod` as soon as nothing holds the device, before
   * the program can open it again. One guest command, so that no round trip sits in between.
   */
  async unplugWhileStreaming(device = "/dev/video0"): Promise<void> {
    await this.ok("sh", [
      "-c",
      `v4l2-ctl -d ${device} -c disconnect=1 || exit 1
      for i in $(seq 100); do rmmod vivid 2>/dev/null && exit 0; sleep 0.05; done
      echo "rmmod vivid kept failing: the device is in use" >&2; exit 1`,
    ]);
  }

  /** True when `path` exists in the guest. */
  async exists(path: string): Promise<boolean> {
    return (await this.run("test", ["-e", path])).code === 0;
  }

  /**
   * The stable name udev would give vivid's capture node `index` (the guest has no udev):
   * `/dev/v4l/by-id/platform-vivid.N-video-index0 -> ../../videoN`.
   */
  async makeByIdName(index: number): Promise<string> {
    const name = byIdName(index);
    await this.ok("sh", [
      "-c",
      `mkdir -p /dev/v4l/by-id && ln -sfn ../../video${index} ${name}`,
    ]);
    return name;
  }

  /** Sets vivid controls through v4l2-ctl (`-c name=value,...`). */
  async setControls(device: string, values: Record<string, number>): Promise<void> {
    const list = Object.entries(values).map(([k, v]) => `${k}=${v}`).join(",");
    await this.ok("v4l2-ctl", ["-d", device, "-c", list]);
  }

  /** A control's current value, read with v4l2-ctl. */
  async control(device: string, name: string): Promise<number> {
    const out = await this.ok("v4l2-ctl", ["-d", device, "-C", name]);
    const m = new RegExp(`^${name}:\\s*(-?\\d+)`, "m").exec(out);
    assert.ok(m, `v4l2-ctl -C ${name} said ${out}`);
    return Number(m[1]);
  }
}

/** The by-id path {@link CameraVm.makeByIdName} makes for vivid's node `index`. */
export function byIdName(index: number): string {
  return `/dev/v4l/by-id/platform-vivid.${index}-video-index0`;
}

/**
 * `count` different free TCP ports on 127.0.0.1, closed again for qemu to bind. All are held
 * open until the last is taken: a port closed at once can be handed out again by the next
 * `listen(0)`, and qemu then refuses the second forward of the same port.
 */
function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

function realDir(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function dirOf(file: string): string {
  return realDir(file).replace(/\/[^/]*$/, "");
}

/** The directories to share, without those inside another one. */
function shares(dirs: string[]): string[] {
  const unique = [...new Set(dirs)];
  return unique.filter((d) => !unique.some((o) => o !== d && d.startsWith(`${o}/`)));
}
