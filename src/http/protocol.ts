/**
 * HTTP constants, defined once: content types and cache headers. The multipart boundary lives
 * with the multipart writer.
 *
 * @module
 */
import { JPEG_CONTENT_TYPE, STREAM_CONTENT_TYPE } from "../multipart/multipart_writer.ts";

export { JPEG_CONTENT_TYPE, STREAM_CONTENT_TYPE };

/** Content-Type of PNG snapshots. */
export const PNG_CONTENT_TYPE = "image/png";

/** Content-Type of JSON answers. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Content-Type of the Prometheus exposition. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Headers that keep browsers and proxies from caching live images. */
export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
  "Pragma": "no-cache",
  "Expires": "0",
  "X-Content-Type-Options": "nosniff",
});

/**
 * Headers of a `/stream` response. `X-Accel-Buffering: no` tells nginx not to buffer the
 * endless body (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering).
 */
export const STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...NO_CACHE_HEADERS,
  "Content-Type": STREAM_CONTENT_TYPE,
  "X-Accel-Buffering": "no",
});
