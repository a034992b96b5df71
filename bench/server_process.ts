/**
 * Starting, probing and stopping the servers under test (tuchuan and the seed), each on its own
 * free port on 127.0.0.1, with its output kept for error messages and its resources sampled.
 *
 * @module
 */
import { cleanEnv, killTree, spawnTracked, type StopResult } from "./child_processes.ts";
import { TreeSampler } from "./proc_stats.ts";
import { LOOPBACK, rawGet, rawGetText } from "./raw_http.ts";

/** The two servers a scenario compares. */
export type ServerKind = "tuchuan" | "seed";

/** How to start one server. */
export interface LaunchSpec {
  readonly kind: ServerKind;
  /** Short description for logs, e.g. "tuchuan 640x480 frames". */
  readonly label: string;
  readonly command: string;
  readonly args: string[];
  readonly port: number;
  /** tuchuan: `GET /healthz` answers 200; seed: `/stream` sends its first bytes. */
  readonly readiness: "healthz" | "stream";
  /** How long start-up may take (deno loading npm packages, workers compiling). */
  readonly readyTimeoutMs: number;
}

/** A free TCP port on 127.0.0.1 (bound then released; the race is harmless on a quiet machine). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Keeps the last lines of a child's output without ever blocking the child on a full pipe. */
async function drain(stream: ReadableStream<Uint8Array>, sink: string[], keep = 40): Promise<void> {
  const decoder = new TextDecoder();
  let partial = "";
  try {
    for await (const chunk of stream) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop() ?? "";
      sink.push(...lines.filter((l) => l.trim()));
      if (sink.length > keep) sink.splice(0, sink.length - keep);
    }
  } catch {
    // The child died; what we have is what there is.
  }
  if (partial.trim()) sink.push(partial);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One readiness probe: true when the server answers as a ready server of its kind does. */
async function probe(port: number, readiness: LaunchSpec["readiness"]): Promise<boolean> {
  try {
    if (readiness === "healthz") {
      return (await rawGetText(port, "/healthz", 1000)).status === 200;
    }
    const res = await rawGet({ port, path: "/stream", timeoutMs: 1000 });
    try {
      if (res.status !== 200) return false;
      const reader = res.body.getReader();
      const timer = setTimeout(() => res.close(), 1000);
      const { value } = await reader.read().finally(() => clearTimeout(timer));
      return (value?.length ?? 0) > 0;
    } finally {
      res.close();
    }
  } catch {
    return false;
  }
}

/** A running server (a state holder): its process, port, output and resource sampler. */
export class ServerProcess {
  readonly spec: LaunchSpec;
  readonly child: Deno.ChildProcess;
  /** Samples the server's process tree RSS every 100 ms from launch to stop. */
  readonly sampler: TreeSampler;
  /** Seconds from spawn to ready. */
  startupSeconds = NaN;
  readonly #output: string[] = [];
  #exited = false;
  #stopped: Promise<StopResult> | undefined;

  private constructor(spec: LaunchSpec) {
    this.spec = spec;
    this.child = spawnTracked(spec.label, spec.command, spec.args, cleanEnv());
    this.child.status.then(() => {
      this.#exited = true;
    });
    drain(this.child.stdout, this.#output);
    drain(this.child.stderr, this.#output);
    this.sampler = new TreeSampler(this.child.pid);
    this.sampler.start();
  }

  /** Starts the server and resolves once it is ready; kills it and throws when it is not. */
  static async launch(spec: LaunchSpec): Promise<ServerProcess> {
    const server = new ServerProcess(spec);
    const t0 = performance.now();
    try {
      for (;;) {
        if (server.#exited) throw new Error(`${spec.label} exited during start-up`);
        if (await probe(spec.port, spec.readiness)) break;
        if (performance.now() - t0 > spec.readyTimeoutMs) {
          throw new Error(`${spec.label} not ready within ${spec.readyTimeoutMs / 1000} s`);
        }
        await sleep(100);
      }
    } catch (err) {
      await server.stop();
      const tail = server.outputTail();
      throw new Error(`${(err as Error).message}${tail ? `; its last output:\n${tail}` : ""}`);
    }
    server.startupSeconds = (performance.now() - t0) / 1000;
    return server;
  }

  /** The server's pid (root of its process tree). */
  get pid(): number {
    return this.child.pid;
  }

  /** The port it listens on. */
  get port(): number {
    return this.spec.port;
  }

  /** Whether the server process has exited (crashed, if we did not stop it). */
  get exited(): boolean {
    return this.#exited;
  }

  /** The last lines it printed (stdout and stderr interleaved). */
  outputTail(lines = 15): string {
    return this.#output.slice(-lines).map((l) => `    | ${l}`).join("\n");
  }

  /** Stops the server and its children (idempotent); resolves once all are gone. */
  stop(): Promise<StopResult> {
    this.#stopped ??= (async () => {
      this.sampler.stop();
      return await killTree(this.child);
    })();
    return this.#stopped;
  }
}
