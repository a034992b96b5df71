/**
 * What `tuchuan` runs with, validated: the server's settings, each camera's settings, and the
 * commands of the command line (`serve`, `record`, `devices`, help, version).
 *
 * @module
 */
import type { Size } from "../core/frame.ts";
import type { LogLevel } from "../core/logger.ts";
import type { Flip, Rotation } from "../core/orientation.ts";
import type { OverlayOptions } from "../image/overlay.ts";
import type { EncoderChoice, SizeMode } from "../plan/encode_plan.ts";
import type { CameraEntry, CameraOption, ControlSetting } from "./parsers.ts";

/** Programs run on a camera's events (each an argv: program first, no shell). */
export interface HookCommands {
  /** The first viewer connected (nobody was watching). */
  readonly onFirstViewer?: readonly string[];
  /** The last viewer left. */
  readonly onLastViewer?: readonly string[];
  /** The source went down. */
  readonly onOffline?: readonly string[];
  /** The source delivers frames again (or for the first time). */
  readonly onOnline?: readonly string[];
}

/** Everything one camera runs with; every camera starts from the top-level values. */
export interface CameraSettings {
  /** `auto`, `testsrc`, a camera device, a video file, a JPEG folder, a URL or a recording. */
  source: string;
  /** `--size`: the box to serve in, or null for the source's own size. */
  size: Size | null;
  /** How `--size` treats another aspect ratio. */
  sizeMode: SizeMode;
  /** `--fps`, or null for the source's own rate. */
  fps: number | null;
  /** JPEG quality, 1..100. */
  quality: number;
  /** The overlay, or `null` for none. */
  overlay: OverlayOptions | null;
  /** Which encoder to use. */
  encoder: EncoderChoice;
  /** Encoder worker count, 1..64. */
  workers: number;
  /** Clockwise rotation of the served picture. */
  rotate: Rotation;
  /** Mirroring of the served picture (before the rotation). */
  flip: Flip;
  /** Camera controls applied at every open. */
  controls: readonly ControlSetting[];
  /** Seconds to keep capturing after the last viewer leaves. */
  idleTimeout: number;
  /** Capture even when nobody watches. */
  alwaysOn: boolean;
  /** Skip byte-identical frames (resending the last one every second). */
  dropSameFrames: boolean;
  /** Image shown while the source is offline. */
  offlineImage?: string;
  /** Seconds of frames kept for snapshots from the past, 0..60. */
  history: number;
  /** Most simultaneous stream viewers; 0 means unlimited. */
  maxClients: number;
  /** Programs run on events. */
  hooks: HookCommands;
}

/** Everything the server itself runs with. */
export interface ServerSettings {
  /** Address to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Basic-auth user; set together with {@link ServerSettings.password}. */
  user?: string;
  /** Basic-auth password; set together with {@link ServerSettings.user}. */
  password?: string;
  /** Access token (`?token=` or `Authorization: Bearer`). */
  token?: string;
  /** Origins allowed to read cross-origin and to post state changes: `*` or one origin. */
  cors?: string;
  /** Seconds a viewer may make no progress before it is closed. */
  sendTimeout: number;
  /** Seconds a connection has to send a complete request. */
  headerTimeout: number;
  /** Seconds an idle keep-alive connection is kept. */
  keepaliveTimeout: number;
  /** Most connections that have not sent a request yet. */
  maxPending: number;
  /** PEM certificate chain for HTTPS (with {@link ServerSettings.tlsKey}). */
  tlsCert?: string;
  /** PEM private key for HTTPS. */
  tlsKey?: string;
  /** Seconds a hook may run before it is killed. */
  hookTimeout: number;
  /** How much to log. */
  logLevel: LogLevel;
}

/** A camera named on the command line, with the options given for it alone. */
export interface NamedCamera extends CameraEntry {
  /** `--camera-option NAME.KEY=VALUE` for this camera, parsed by KEY's rule. */
  readonly options: Partial<CameraSettings>;
}

/**
 * The whole configuration: the server, the top-level camera settings (the camera when no
 * `--camera` is given, the defaults of every camera otherwise), and the named cameras.
 */
export interface Config extends ServerSettings, CameraSettings {
  /** `--camera NAME=SOURCE`; empty for the single camera of `--source`. */
  cameras: readonly NamedCamera[];
}

/** Everything `tuchuan record` needs, validated. Exactly one of `duration` and `frames` is set. */
export interface RecordOptions {
  source: string;
  size: Size | null;
  fps: number | null;
  quality: number;
  /** File to write the recording to. */
  out: string;
  /** Seconds to record. */
  duration?: number;
  /** Frames to record. */
  frames?: number;
  logLevel: LogLevel;
}

/** What the command line asks for. */
export type Command =
  | { kind: "serve"; config: Config }
  | { kind: "record"; options: RecordOptions }
  | { kind: "devices"; json: boolean }
  | { kind: "help"; text: string }
  | { kind: "version"; text: string };

/** Most encode workers. */
export const MAX_WORKERS = 64;

function defaultWorkers(): number {
  // hardwareConcurrency can be missing or 0 in restricted runtimes; the pool needs at least one.
  const cores = Math.floor(globalThis.navigator?.hardwareConcurrency ?? 1);
  return Math.min(MAX_WORKERS, Math.max(1, Number.isFinite(cores) ? cores : 1));
}

/** The configuration used when no flag or variable says otherwise. */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  source: "auto",
  size: null,
  sizeMode: "fit",
  fps: null,
  quality: 70,
  overlay: null,
  encoder: "auto",
  workers: defaultWorkers(),
  rotate: 0,
  flip: "none",
  controls: [],
  idleTimeout: 10,
  alwaysOn: false,
  dropSameFrames: false,
  history: 5,
  maxClients: 0,
  hooks: {},
  host: "127.0.0.1",
  port: 8080,
  sendTimeout: 10,
  headerTimeout: 10,
  keepaliveTimeout: 30,
  maxPending: 64,
  hookTimeout: 10,
  logLevel: "info",
  cameras: [],
});

/** The name the camera of `--source` goes by (metrics label, `/NAME/…` URLs). */
export const DEFAULT_CAMERA_NAME = "default";

/** Keys of {@link CameraSettings}, in the order the flag table lists them. */
export type CameraKey = keyof CameraSettings;

export type { CameraOption };
