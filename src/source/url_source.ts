/**
 * Network sources. An `http(s)://` URL serving MJPEG (an IP camera, another tuchuan's
 * `/stream`) or single JPEGs is read by tuchuan itself; anything else, and every `rtsp://`
 * camera, is read by ffmpeg. What the URL serves is asked once at startup; a camera that is down
 * then is taken to serve MJPEG (the common case), and a wrong guess shows as its reason offline.
 *
 * @module
 */
import { redactUrls } from "../core/redact.ts";
import type { SourceOffer } from "../plan/encode_plan.ts";
import { ffmpegFrames } from "./ffmpeg_frames.ts";
import { ffmpegJob } from "./ffmpeg_job.ts";
import { httpMjpegFrames, probeHttp } from "./http_mjpeg_source.ts";
import type { Source, SourceContext } from "./source.ts";

/** Opens an `http(s)://` or `rtsp(s)://` source. */
export async function openUrl(url: string, ctx: SourceContext): Promise<Source> {
  const http = /^https?:/i.test(url);
  const notes: string[] = [];
  let jpeg = false;
  let mode = "video over RTSP";
  if (http) {
    const content = await probeHttp(url);
    if (content === null) {
      notes.push("not reachable at startup: taken to serve MJPEG");
      ctx.log.warn(`${redactUrls(url)} is not reachable now; taking it to serve MJPEG`);
    }
    jpeg = content !== "other";
    mode = content === "jpeg"
      ? "single JPEGs over HTTP (polled)"
      : content === "other"
      ? "video over HTTP"
      : "MJPEG over HTTP";
  }
  const offer: SourceOffer = {
    jpeg,
    native: jpeg,
    ffmpegCanRead: true,
    size: null,
    fps: null,
    cameraFlip: false,
    mode,
    notes,
  };
  const plan = ctx.planner.decide(offer);
  return {
    kind: "url",
    input: url,
    offer,
    facts: () => ({ mode, notes }),
    frames(signal) {
      if (plan.ffmpeg === null) return httpMjpegFrames(url, ctx.fps, signal, ctx.clock, ctx.hooks);
      return ffmpegFrames(
        ffmpegJob({ kind: "url", url }, plan, ctx.quality, ctx.fps),
        signal,
        ctx.clock,
        ctx.hooks,
      );
    },
  };
}
