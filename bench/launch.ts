/**
 * The command lines of the servers under test, and `withServer` which starts one, hands it to a
 * scenario body and always stops it.
 *
 * Both servers replay the same JPEG files at the same rate: the seed through its `FakeCam`,
 * tuchuan reading the folder itself (passthrough, no ffmpeg, no re-encode), so the comparison is
 * about delivery, not encoding. `--always-on` keeps tuchuan's capture running with no viewer, as
 * the seed's does, so start-up of the source is not measured as client latency.
 *
 * @module
 */
import type { BenchConfig } from "./scenario.ts";
import type { StopResult } from "./child_processes.ts";
import { freePort, type LaunchSpec, type ServerKind, ServerProcess } from "./server_process.ts";

/** Frame size folders that make_frames.sh creates. */
export type FrameSize = "640x480" | "1280x720" | "1920x1080";

/** A server replaying `framesRoot/size` at `cfg.fps`. */
export function replaySpec(
  cfg: BenchConfig,
  kind: ServerKind,
  size: FrameSize = "640x480",
): LaunchSpec {
  const port = freePort();
  const dir = `${cfg.framesRoot}/${size}`;
  if (kind === "seed") {
    return {
      kind,
      label: `seed ${size} frames`,
      command: cfg.python,
      args: [cfg.seedScript, dir, String(port), String(cfg.fps)],
      port,
      readiness: "stream",
      readyTimeoutMs: 15_000,
    };
  }
  const [command, ...prefix] = cfg.tuchuanCommand;
  return {
    kind,
    label: `tuchuan ${size} frames`,
    command,
    args: [
      ...prefix,
      ...["--source", dir, "--fps", String(cfg.fps), "--port", String(port)],
      ...["--always-on", "--log-level", "warn"],
    ],
    port,
    readiness: "healthz",
    readyTimeoutMs: 30_000,
  };
}

/** tuchuan drawing an overlay on ffmpeg's test pattern and encoding with imagescript. */
export function encodeSpec(cfg: BenchConfig, size: FrameSize): LaunchSpec {
  const port = freePort();
  const [command, ...prefix] = cfg.tuchuanCommand;
  return {
    kind: "tuchuan",
    label: `tuchuan testsrc ${size} imagescript`,
    command,
    args: [
      ...prefix,
      ...["--source", "testsrc", "--size", size, "--fps", String(cfg.fps), "--port", String(port)],
      ...[
        "--overlay",
        "fps,time",
        "--encoder",
        "imagescript",
        "--always-on",
        "--log-level",
        "warn",
      ],
    ],
    port,
    readiness: "healthz",
    // Encoder workers load imagescript before the first frame; 1080p on a small machine is slow.
    readyTimeoutMs: 60_000,
  };
}

/** A scenario body's value plus how the server started and stopped. */
export interface WithServer<T> {
  readonly value: T;
  readonly startupSeconds: number;
  readonly stop: StopResult;
}

/**
 * Servers that could not start, by label: a server that failed once fails the same way in the
 * next scenario, and waiting out its start-up timeout again would only stretch the run.
 */
const failedToStart = new Map<string, string>();

/** Starts the server, runs `body`, stops the server (also when `body` throws). */
export async function withServer<T>(
  cfg: BenchConfig,
  spec: LaunchSpec,
  body: (server: ServerProcess) => Promise<T>,
): Promise<WithServer<T>> {
  const earlier = failedToStart.get(spec.label);
  if (earlier !== undefined) {
    throw new Error(`not started (it failed to start earlier: ${earlier})`);
  }
  cfg.log(`  starting ${spec.label} on 127.0.0.1:${spec.port}`);
  let server: ServerProcess;
  try {
    server = await ServerProcess.launch(spec);
  } catch (err) {
    failedToStart.set(spec.label, (err as Error).message.split("\n")[0]);
    throw err;
  }
  let value: T;
  try {
    value = await body(server);
    if (server.exited) throw new Error(`${spec.label} exited during the measurement`);
  } catch (err) {
    await server.stop();
    const tail = server.outputTail();
    throw new Error(`${(err as Error).message ?? err}${tail ? `; its last output:\n${tail}` : ""}`);
  }
  const stop = await server.stop();
  return { value, startupSeconds: server.startupSeconds, stop };
}

/**
 * tuchuan with `args` (after the command prefix), on a free port, logging warnings only. The
 * readiness probe is `/healthz`, which answers 200 whether capture runs or not.
 */
export function tuchuanSpec(
  cfg: BenchConfig,
  label: string,
  args: readonly string[],
  readyTimeoutMs = 30_000,
): LaunchSpec {
  const port = freePort();
  const [command, ...prefix] = cfg.tuchuanCommand;
  return {
    kind: "tuchuan",
    label,
    command,
    args: [...prefix, ...args, "--port", String(port), "--log-level", "warn"],
    port,
    readiness: "healthz",
    readyTimeoutMs,
  };
}

/** Values of several servers' run, with how each started and stopped. */
export interface WithServers<T> {
  readonly value: T;
  readonly startupSeconds: number[];
  readonly stops: StopResult[];
}

/**
 * Starts every server of `specs` (at once: they are measured together), runs `body`, and stops
 * them all, also when one fails to start or `body` throws.
 */
export async function withServers<T>(
  cfg: BenchConfig,
  specs: readonly LaunchSpec[],
  body: (servers: ServerProcess[]) => Promise<T>,
): Promise<WithServers<T>> {
  for (const spec of specs) cfg.log(`  starting ${spec.label} on 127.0.0.1:${spec.port}`);
  const launched = await Promise.allSettled(specs.map((s) => ServerProcess.launch(s)));
  const servers = launched.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = launched.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  let value: T;
  try {
    value = await body(servers);
    const dead = servers.find((s) => s.exited);
    if (dead) throw new Error(`${dead.spec.label} exited during the measurement`);
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    const tails = servers.map((s) => s.outputTail()).filter(Boolean).join("\n");
    throw new Error(`${(err as Error).message ?? err}${tails ? `; last output:\n${tails}` : ""}`);
  }
  const stops = await Promise.all(servers.map((s) => s.stop()));
  return { value, startupSeconds: servers.map((s) => s.startupSeconds), stops };
}
