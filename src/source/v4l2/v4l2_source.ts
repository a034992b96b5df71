/**
 * A V4L2 camera (`/dev/videoN`, or its stable `/dev/v4l/by-id/…` name). Each time capture opens
 * it (first start, restart, replug) tuchuan asks the camera what it offers, chooses a mode
 * (negotiate.ts), sets the user's controls (automatic modes first) and the camera's own flips
 * when the plan uses them, and runs ffmpeg on it. A camera missing at startup is waited for: the
 * server runs, viewers get NO SIGNAL saying so, and capture starts when it is plugged in.
 *
 * ffmpeg exits 0 when the camera is unplugged mid-stream; that ends the run like any failure,
 * with the camera's reason ("not connected", "busy") from ffmpeg's last error line.
 *
 * @module
 */
import type { Size } from "../../core/frame.ts";
import { InputError } from "../../core/errors.ts";
import type { SourceOffer } from "../../plan/encode_plan.ts";
import { ffmpegFrames } from "../ffmpeg_frames.ts";
import { ffmpegJob } from "../ffmpeg_job.ts";
import { type Source, type SourceContext, SourceError, type SourceFacts } from "../source.ts";
import {
  type CameraControls,
  checkControls,
  checkControlValue,
  ControlError,
  listedControls,
  writeOrder,
} from "./camera_controls.ts";
import { negotiate, type Negotiation } from "./negotiate.ts";
import {
  describeDeviceError,
  type DeviceCaps,
  deviceExists,
  queryDevice,
  readControls,
  writeControls,
} from "./v4l2_ctl.ts";
import type { V4l2Control } from "./v4l2_parse.ts";

/** Options of {@link openCamera}. */
export interface CameraOptions {
  /** `--control NAME=VALUE`, in the order given. */
  controls: readonly { name: string; value: string }[];
}

/** True for a device path tuchuan treats as a V4L2 camera. */
export function isCameraPath(input: string): boolean {
  return /^\/dev\/(video\d+|v4l\/)/.test(input);
}

function modeText(n: Negotiation): string {
  const m = n.mode;
  return `${m.fourcc} ${m.size.width}x${m.size.height} at ${+m.fps.toFixed(3)} fps`;
}

function offerOf(caps: DeviceCaps, n: Negotiation): SourceOffer {
  const flip = (name: string) =>
    caps.controls.some((c) =>
      c.name === name && c.type === "bool" && !c.flags.includes("read-only")
    );
  return {
    jpeg: n.mode.jpeg,
    native: false,
    ffmpegCanRead: true,
    size: n.mode.size,
    fps: n.mode.fps,
    cameraFlip: flip("horizontal_flip") && flip("vertical_flip"),
    mode: modeText(n),
    notes: n.notes,
  };
}

/**
 * The size the plan should scale to: none when the camera gives the size asked for, or a
 * smaller one (never scaled up); the box when the camera's nearest mode is larger.
 */
function scaleWanted(asked: Size | null, got: Size): Size | null {
  if (!asked) return null;
  return got.width > asked.width || got.height > asked.height ? asked : null;
}

/** Opens a camera (or starts waiting for it). */
export async function openCamera(
  device: string,
  ctx: SourceContext,
  options: CameraOptions,
): Promise<Source> {
  const want = { size: ctx.size, fps: ctx.fps };
  let negotiation: Negotiation | null = null;
  let offer: SourceOffer | null = null;
  /** Values set at run time through the API: applied again at every open, after --control. */
  const runtime = new Map<string, number>();
  const facts = (): SourceFacts => ({
    device: resolved(device),
    ...(negotiation
      ? { mode: modeText(negotiation), why: negotiation.why, notes: negotiation.notes }
      : {}),
    asked: { size: want.size ? `${want.size.width}x${want.size.height}` : null, fps: want.fps },
  });

  const learn = async (): Promise<{ caps: DeviceCaps; negotiation: Negotiation }> => {
    const c = await queryDevice(device);
    if (!c.info.capture) throw new SourceError(`Camera ${device} is not a video capture device`);
    const n = negotiate(c.formats, want);
    if (!n) {
      throw new SourceError(
        `Camera ${device} offers no format ffmpeg can read (${
          c.formats.map((f) => f.fourcc).join(", ")
        })`,
      );
    }
    negotiation = n;
    offer = offerOf(c, n);
    ctx.planner.decide(offer, { size: scaleWanted(ctx.size, n.mode.size) });
    return { caps: c, negotiation: n };
  };

  // The first capture must not wait for fluent-ffmpeg's own look at ffmpeg (see ffmpeg.ts).
  const warming = ctx.clock.now();
  import("../ffmpeg.ts").then((m) => m.warmUpFfmpeg()).then(
    () =>
      ctx.log.debug(`ffmpeg is ready (looked up in ${Math.round(ctx.clock.now() - warming)} ms)`),
    (err) => ctx.log.debug(`ffmpeg was not looked up ahead: ${(err as Error).message}`),
  );
  if (deviceExists(device)) {
    const first = await learn();
    for (const note of first.negotiation.notes) ctx.log.warn(`Camera ${device}: ${note}`);
    try {
      // Checked now, while the camera is here, so that a wrong name is exit code 2.
      checkControls(first.caps.controls, options.controls);
    } catch (err) {
      if (err instanceof ControlError) {
        throw new InputError(`Invalid --control ${err.control}: ${err.message}`, {
          flag: "--control",
        });
      }
      throw err;
    }
  } else {
    ctx.log.warn(`Camera ${device} is not connected: waiting for it`);
  }

  const applyControls = async (controls: readonly V4l2Control[]) => {
    const plan = ctx.planner.current;
    const wanted = new Map<string, number>();
    // Startup values are checked again: a replug may bring a camera with other controls.
    for (const { name, value } of options.controls) {
      const control = controls.find((c) => c.name === name);
      if (!control) {
        ctx.log.warn(`Camera ${device} has no control ${name}: --control ${name} skipped`);
        continue;
      }
      try {
        wanted.set(name, checkControlValue(control, value));
      } catch (err) {
        ctx.log.warn(`Camera ${device}: ${(err as Error).message}; skipped`);
      }
    }
    for (const [name, value] of runtime) wanted.set(name, value);
    const flip = plan?.orientation.camera;
    if (flip) {
      // --flip and --rotate own the flip controls; when they leave the camera upright, a flip
      // left by an earlier run is undone, unless --control sets that flip on purpose.
      const mirrors = flip.hflip || flip.vflip;
      if (mirrors || !wanted.has("horizontal_flip")) {
        wanted.set("horizontal_flip", flip.hflip ? 1 : 0);
      }
      if (mirrors || !wanted.has("vertical_flip")) wanted.set("vertical_flip", flip.vflip ? 1 : 0);
    }
    const ordered = writeOrder([...wanted].map(([name, value]) => ({ name, value })));
    // Values the camera has already (it was just asked) are left alone, as each write is a run
    // of v4l2-ctl that a restart waits for; but once one value is written, every later one is
    // written too: switching an automatic mode off may change the values it governed.
    const now = new Map(controls.map((c) => [c.name, c.value]));
    const first = ordered.findIndex((v) => now.get(v.name) !== v.value);
    if (first === -1) return;
    const results = await writeControls(device, ordered.slice(first));
    for (const r of results) {
      if (r.error) ctx.log.warn(`Camera ${device} refused ${r.name}=${r.asked}: ${r.error}`);
      else if (r.value !== null && r.value !== r.asked) {
        ctx.log.warn(`Camera ${device} set ${r.name} to ${r.value} (asked ${r.asked})`);
      }
    }
    ctx.log.debug(
      `Camera ${device} controls read back: ${
        results.map((r) => `${r.name}=${r.value ?? "?"}`).join(", ")
      }`,
    );
  };

  const controlsApi: CameraControls = {
    async list() {
      if (!deviceExists(device)) throw new SourceError(`Camera ${device} is not connected`);
      return listedControls(await readControls(device));
    },
    async set(values) {
      if (!deviceExists(device)) throw new SourceError(`Camera ${device} is not connected`);
      const checked = checkControls(await readControls(device), values);
      const results = await writeControls(device, writeOrder(checked));
      for (const r of results) if (!r.error) runtime.set(r.name, r.asked);
      return results;
    },
    async nameOf(id) {
      if (!deviceExists(device)) return null;
      return (await readControls(device)).find((c) => c.id === id)?.name ?? null;
    },
  };

  return {
    kind: "v4l2",
    input: device,
    get offer() {
      return offer;
    },
    facts,
    controls: controlsApi,
    async *frames(signal) {
      if (!deviceExists(device)) {
        throw new SourceError(`Camera ${device} is not connected (no such device)`);
      }
      const { caps: c, negotiation: n } = await learn();
      await applyControls(c.controls);
      const plan = ctx.planner.current!;
      const input = {
        kind: "v4l2" as const,
        device,
        inputFormat: n.mode.ffmpegFormat,
        size: n.mode.size,
        fps: n.mode.fps,
      };
      try {
        yield* ffmpegFrames(
          ffmpegJob(input, plan, ctx.quality, null),
          signal,
          ctx.clock,
          ctx.hooks,
        );
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        const line = err.message.replace(/^ffmpeg:\s*/, "").replace(`${device}: `, "");
        throw new SourceError(`Camera ${device}: ${describeDeviceError(line)}`, { cause: err });
      }
    },
  };
}

/** The device a by-id (or by-path) name points to now, or the name itself. */
function resolved(device: string): string {
  try {
    return Deno.realPathSync(device);
  } catch {
    return device;
  }
}
