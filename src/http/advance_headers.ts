/**
 * Which part layout a `/stream` request gets (see multipart/multipart_writer.ts).
 *
 * Every browser engine paints a part of a multipart stream only once the next part's whole header
 * block has arrived: measured with Chromium 156, Firefox 153 ESR and WebKitGTK 2.50 at 2 fps,
 * each frame showed 502, 503 and 505 ms late in the plain layout, and 3-5 ms late with the next
 * header block sent right after each JPEG (https://crbug.com/527446 for Chromium; WebKit also
 * holds back the very first part). So every browser's `<img>` request (`Sec-Fetch-Dest: image`,
 * sent by all three) gets that "advance" layout. Everyone else (ffmpeg, OpenCV, GStreamer,
 * scripts, and `fetch()` readers such as Mainsail's, whose `Sec-Fetch-Dest` is `empty`) gets
 * full part headers with `Content-Length`, which they need.
 *
 * @module
 */
import type { PartMode } from "../multipart/multipart_writer.ts";

/**
 * The layout for a request: `?advance_headers=1|0` decides when given; otherwise a browser
 * loading an image gets "advance".
 */
export function partModeFor(headers: Headers, override: boolean | null): PartMode {
  if (override !== null) return override ? "advance" : "normal";
  return headers.get("sec-fetch-dest") === "image" ? "advance" : "normal";
}
