/**
 * What every source is: an async iterable of frames that stops when its signal aborts.
 *
 * @module
 */
import type { SourceFrame } from "../frame.ts";

/** The kinds of input tuchuan reads. */
export type SourceKind = "testsrc" | "v4l2" | "file" | "folder" | "url" | "replay";

/** A frame producer. `frames()` may be called again after it ended or failed (a restart). */
export interface Source {
  /** What kind of input this is. */
  readonly kind: SourceKind;
  /** The input as the user named it (a path, URL or `testsrc`). */
  readonly input: string;
  /** "jpeg" when frames arrive encoded (passthrough), "rgba" when they arrive as pixels. */
  readonly output: "jpeg" | "rgba";
  /** Why this output was chosen, for `/state`. */
  readonly reason: string;
  /** Pid of the running ffmpeg child, if any (tests kill it to simulate a crash). */
  readonly pid?: number | null;
  /**
   * Yields frames until the input ends (returns) or fails (throws `SourceError`), or `signal`
   * aborts (returns, after releasing every process and file it held).
   */
  frames(signal: AbortSignal): AsyncIterable<SourceFrame>;
}

/** A source failed: the message is what the user should read (ffmpeg's last stderr line). */
export class SourceError extends Error {
  /** @param message why it failed; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SourceError";
  }
}

/**
 * Hides the credentials of every URL in `text` (`rtsp://user:pw@cam/` -> `rtsp://***@cam/`):
 * ffmpeg repeats the input URL in its errors, which reach /state, the log and the NO SIGNAL card.
 */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}
