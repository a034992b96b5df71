/**
 * Keeps a source running: restarts it with backoff when it fails or ends, and aborts it when it
 * stops producing frames (the watchdog), reporting online/offline with the reason.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { SourceFrame } from "../core/frame.ts";
import type { Source } from "../source/source.ts";

/**
 * Where the source stands: not running, opening (before its first frame), delivering frames,
 * or down (failed, ended or silent) and waiting for its next restart.
 */
export type SourceState = "stopped" | "starting" | "online" | "offline";

/** Restart and watchdog timing. */
export interface SupervisorTiming {
  /** First restart delay (0.5 s), doubled after each failure... */
  initialBackoffMs: number;
  /** ...up to this (10 s). */
  maxBackoffMs: number;
  /**
   * ...or up to this (60 s) after a run that produced nothing until the watchdog stopped it:
   * such a source (a file with no frames that ffmpeg loops over at full speed) costs a core for
   * the whole startup grace at every try, so it is tried far less often.
   */
  barrenBackoffMs: number;
  /** A run that delivered frames this long resets the backoff (one minute). */
  healthyMs: number;
  /** No frame for this long aborts the run: max(3 frame periods, 2 s). */
  watchdogMs: number;
  /** Grace before the first frame of a run (ffmpeg start, camera or network open). */
  startupMs: number;
}

/** The default timing for a source at `fps`. */
export function defaultTiming(fps: number): SupervisorTiming {
  const watchdogMs = Math.max(3000 / fps, 2000);
  return {
    initialBackoffMs: 500,
    maxBackoffMs: 10_000,
    barrenBackoffMs: 60_000,
    healthyMs: 60_000,
    watchdogMs,
    startupMs: Math.max(watchdogMs, 5000),
  };
}

/** What the supervisor tells its owner. */
export interface SupervisorEvents {
  onFrame: (frame: SourceFrame) => void;
  onOnline?: () => void;
  onOffline?: (reason: string) => void;
  /** A restart is scheduled after `delayMs`. */
  onRestart?: (attempt: number, delayMs: number, reason: string) => void;
}

/** Runs one source under supervision until stopped. */
export class Supervisor {
  readonly #source: Source;
  readonly #clock: Clock;
  readonly #timing: SupervisorTiming;
  readonly #events: SupervisorEvents;
  #stop: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #state: SourceState = "stopped";
  #reason = "";
  #restarts = 0;

  /** @param source what to run; @param events callbacks; @param options clock and timing */
  constructor(
    source: Source,
    events: SupervisorEvents,
    options: { clock: Clock; timing: SupervisorTiming },
  ) {
    this.#source = source;
    this.#events = events;
    this.#clock = options.clock;
    this.#timing = options.timing;
  }

  /** Where the source stands. */
  get state(): SourceState {
    return this.#state;
  }

  /** True while frames arrive. */
  get online(): boolean {
    return this.#state === "online";
  }

  /** Why the source is offline ("" unless offline). */
  get reason(): string {
    return this.#state === "offline" ? this.#reason : "";
  }

  /** Restarts so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#stop !== null;
  }

  /** Starts the source (no-op when running). */
  start(): void {
    if (this.#stop) return;
    this.#stop = new AbortController();
    this.#state = "starting";
    this.#reason = "";
    this.#loop = this.#run(this.#stop.signal);
  }

  /** Stops the source and resolves once its process is gone. */
  async stop(): Promise<void> {
    const stop = this.#stop;
    if (!stop) return;
    this.#stop = null;
    stop.abort(new Error("stopped"));
    await this.#loop;
    this.#loop = null;
    this.#state = "stopped";
    this.#reason = "";
  }

  async #run(signal: AbortSignal): Promise<void> {
    const t = this.#timing;
    let delay = t.initialBackoffMs;
    while (!signal.aborted) {
      const run = new AbortController();
      const onStop = () => run.abort();
      signal.addEventListener("abort", onStop, { once: true });
      const started = this.#clock.now();
      let firstFrameAt: number | null = null;
      let lastFrameAt = started;
      let reason = "";
      let silenced = false;
      const watchdog = (async () => {
        while (!run.signal.aborted) {
          const limit = firstFrameAt === null ? t.startupMs : t.watchdogMs;
          const wait = lastFrameAt + limit - this.#clock.now();
          if (wait <= 0) {
            reason = `No frame from the source for ${(limit / 1000).toFixed(1)} s`;
            silenced = true;
            run.abort();
            return;
          }
          try {
            // Never sleep past one watchdog period: the first frame shortens the limit from the
            // startup grace to the watchdog, so a deadline computed before it may be too late.
            await this.#clock.sleep(Math.min(wait, t.watchdogMs), run.signal);
          } catch {
            return;
          }
        }
      })();
      try {
        const emit = (frame: SourceFrame) => {
          lastFrameAt = this.#clock.now();
          if (firstFrameAt === null) firstFrameAt = lastFrameAt;
          if (this.#state !== "online") {
            this.#state = "online";
            this.#reason = "";
            this.#events.onOnline?.();
          }
          this.#events.onFrame(frame);
        };
        if (this.#source.push) await this.#source.push(run.signal, emit);
        else for await (const frame of this.#source.frames(run.signal)) emit(frame);
        reason ||= "The source ended";
      } catch (err) {
        reason ||= (err as Error)?.message ?? String(err);
      } finally {
        run.abort();
        signal.removeEventListener("abort", onStop);
        await watchdog;
      }
      if (signal.aborted) break;
      this.#state = "offline";
      this.#reason = reason;
      this.#events.onOffline?.(reason);
      if (firstFrameAt !== null && lastFrameAt - firstFrameAt >= t.healthyMs) {
        delay = t.initialBackoffMs;
      }
      this.#restarts++;
      this.#events.onRestart?.(this.#restarts, delay, reason);
      try {
        await this.#clock.sleep(delay, signal);
      } catch {
        break;
      }
      const barren = silenced && firstFrameAt === null;
      delay = Math.min(delay * 2, barren ? t.barrenBackoffMs : t.maxBackoffMs);
    }
  }
}
