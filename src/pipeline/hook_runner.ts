/**
 * `--on-first-viewer`, `--on-last-viewer`, `--on-offline`, `--on-online`: a user's program run on
 * a camera's events (a privacy LED that lights while someone watches, an alert when a camera
 * drops). Programs run without a shell, with the details in `TUCHUAN_*` variables; they never
 * block the stream; each is killed after `--hook-timeout`; each exit is logged.
 *
 * A camera's hooks run one at a time, in the order of their events: a viewer who comes and goes
 * at once runs "first viewer" then "last viewer", never both together and never the other way
 * round, and the same event never runs twice at once. While one runs, later events wait (an
 * event already waiting is replaced by its newer copy, so a flapping source queues no backlog).
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import { redactUrls } from "../core/redact.ts";
import { runCommand } from "../core/run_command.ts";
import type { CameraMetrics } from "./camera_metrics.ts";

/** The events hooks run on. */
export type HookEvent = "first-viewer" | "last-viewer" | "offline" | "online";

/** The programs, by event (argv arrays, program first). */
export type HookTable = Partial<Record<HookEvent, readonly string[]>>;

/** What a hook is told. */
export interface HookDetails {
  /** Viewers connected now. */
  viewers: number;
  /** Why the source went down (offline), or "". */
  reason?: string;
}

/** Options of {@link HookRunner}. */
export interface HookRunnerOptions {
  camera: string;
  hooks: HookTable;
  timeoutMs: number;
  clock: Clock;
  log: Logger;
  metrics: CameraMetrics;
}

/** Most events waiting behind a running hook. */
const MAX_QUEUE = 8;

/** Runs one camera's hooks, one at a time. */
export class HookRunner {
  readonly #o: HookRunnerOptions;
  readonly #queue: { event: HookEvent; details: HookDetails }[] = [];
  #running: Promise<void> | null = null;
  #closed = false;
  readonly #stop = new AbortController();

  /** Nothing runs until an event fires. */
  constructor(options: HookRunnerOptions) {
    this.#o = options;
  }

  /** True when any hook is configured. */
  get active(): boolean {
    return Object.keys(this.#o.hooks).length > 0;
  }

  /** Queues the event's hook, if there is one; returns at once. */
  fire(event: HookEvent, details: HookDetails): void {
    if (this.#closed || !this.#o.hooks[event]) return;
    const waiting = this.#queue.findIndex((q) => q.event === event);
    if (waiting !== -1) this.#queue.splice(waiting, 1);
    this.#queue.push({ event, details });
    if (this.#queue.length > MAX_QUEUE) {
      const dropped = this.#queue.shift()!;
      this.#o.log.warn(`Hook ${dropped.event} skipped: ${MAX_QUEUE} events already waiting`);
    }
    this.#running ??= this.#drain();
  }

  /** Resolves once the running hook (if any) is done; kills it when `kill` is set. */
  async close(kill = true): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    if (kill) this.#stop.abort();
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const { event, details } = this.#queue.shift()!;
      await this.#run(event, details);
    }
    this.#running = null;
  }

  async #run(event: HookEvent, details: HookDetails): Promise<void> {
    const { camera, hooks, timeoutMs, log, metrics, clock } = this.#o;
    const [program, ...args] = hooks[event]!;
    const env: Record<string, string> = {
      TUCHUAN_EVENT: event,
      TUCHUAN_CAMERA: camera,
      TUCHUAN_VIEWERS: String(details.viewers),
      TUCHUAN_REASON: redactUrls(details.reason ?? ""),
    };
    metrics.hooksRun++;
    try {
      const r = await runCommand(program, args, {
        timeoutMs,
        env,
        clock,
        signal: this.#stop.signal,
        maxOutputBytes: 16 * 1024,
      });
      const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").at(-1) ?? "";
      if (r.timedOut) {
        metrics.hooksFailed++;
        log.warn(`Hook ${event} (${program}) killed after ${timeoutMs / 1000} s`);
      } else if (r.code !== 0) {
        metrics.hooksFailed++;
        log.warn(
          `Hook ${event} (${program}) failed: ${
            r.code === null ? `signal ${r.signal}` : `exit ${r.code}`
          }${tail ? `: ${tail.slice(0, 200)}` : ""}`,
        );
      } else log.info(`Hook ${event} (${program}) ran: exit 0`);
    } catch (err) {
      metrics.hooksFailed++;
      log.warn(`Hook ${event} (${program}) could not start: ${(err as Error).message}`);
    }
  }
}
