/**
 * Camera controls over HTTP: `GET /controls` lists them (type, range, step, default, current
 * value), `POST /controls` sets one or more, as JSON (`{"brightness": 140}` or
 * `[{"name": "brightness", "value": 140}]`) or as a form (`brightness=140&contrast=120`). Every
 * value is checked before any is written: one bad value (unknown control, out of range, wrong
 * type) answers 400 naming it and changes nothing. mjpg-streamer's control URL,
 * `/?action=command&id=ID&value=V`, sets one control by its V4L2 id.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Camera } from "../pipeline/camera.ts";
import { SourceError } from "../source/source.ts";
import { ControlError } from "../source/v4l2/camera_controls.ts";
import { BadParam, jsonError } from "./http_errors.ts";
import { JSON_CONTENT_TYPE, NO_CACHE_HEADERS } from "./protocol.ts";

/** Largest request body accepted. */
const MAX_BODY = 64 * 1024;
/** Longest a client may take to send it. */
const BODY_TIMEOUT_MS = 10_000;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ...NO_CACHE_HEADERS },
  });
}

/** The request body as text, refusing more than {@link MAX_BODY} bytes or a slow sender. */
async function readBody(req: Request, clock: Clock): Promise<string> {
  const length = Number(req.headers.get("content-length") ?? "0");
  if (length > MAX_BODY) throw new BadParam("body", `Request body over ${MAX_BODY} bytes`);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const limit = new AbortController();
  let late = false;
  clock.sleep(BODY_TIMEOUT_MS, limit.signal).then(() => {
    late = true;
    reader.cancel().catch(() => {});
  }, () => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > MAX_BODY) {
        await reader.cancel();
        throw new BadParam("body", `Request body over ${MAX_BODY} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    limit.abort();
  }
  if (late) throw new BadParam("body", `Request body not sent within ${BODY_TIMEOUT_MS / 1000} s`);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** The requested values, from JSON or a form. Throws {@link BadParam} for a malformed body. */
function requested(type: string, text: string): { name: string; value: unknown }[] {
  if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadParam("body", "The body is not valid JSON");
    }
    if (Array.isArray(body)) {
      return body.map((item, i) => {
        if (!item || typeof item !== "object" || typeof item.name !== "string") {
          throw new BadParam("body", `Item ${i} is not {"name": ..., "value": ...}`);
        }
        return { name: item.name, value: item.value };
      });
    }
    if (body && typeof body === "object") {
      return Object.entries(body as Record<string, unknown>).map(([name, value]) => ({
        name,
        value,
      }));
    }
    throw new BadParam("body", "Expected a JSON object of control names and values");
  }
  return [...new URLSearchParams(text)].filter(([k]) => k !== "token").map(([name, value]) => ({
    name,
    value,
  }));
}

function noControls(camera: Camera): Response {
  return jsonError(
    404,
    `Camera ${camera.name} has no controls: its source is ${camera.source.kind}`,
  );
}

function failed(err: unknown): Response {
  if (err instanceof ControlError) return jsonError(400, err.message, err.control);
  if (err instanceof SourceError) {
    return jsonError(503, err.message, undefined, { "Retry-After": "1" });
  }
  throw err;
}

/** Answers `GET` and `POST /controls`. */
export async function controlsResponse(
  req: Request,
  camera: Camera,
  clock: Clock,
): Promise<Response> {
  const controls = camera.source.controls;
  if (!controls) return noControls(camera);
  try {
    if (req.method !== "POST") {
      const list = await controls.list();
      return req.method === "HEAD"
        ? new Response(null, { headers: NO_CACHE_HEADERS })
        : json({ controls: list });
    }
    const values = requested(req.headers.get("content-type") ?? "", await readBody(req, clock));
    if (values.length === 0) throw new BadParam("body", "No control to set");
    const results = await controls.set(values);
    return json({ controls: results }, results.some((r) => r.error) ? 502 : 200);
  } catch (err) {
    return failed(err);
  }
}

/** Answers mjpg-streamer's `?action=command&id=ID&value=V`. */
export async function commandResponse(url: URL, camera: Camera): Promise<Response> {
  const controls = camera.source.controls;
  if (!controls) return noControls(camera);
  const idText = url.searchParams.get("id") ?? "";
  const value = url.searchParams.get("value");
  if (!/^\d+$/.test(idText)) {
    throw new BadParam("id", `Invalid id "${idText.slice(0, 40)}": expected a V4L2 control id`);
  }
  if (value === null) throw new BadParam("value", "Missing value");
  try {
    const name = await controls.nameOf(Number(idText));
    if (!name) throw new BadParam("id", `No control with id ${idText}`);
    const [result] = await controls.set([{ name, value }]);
    return json({ controls: [result] }, result.error ? 502 : 200);
  } catch (err) {
    return failed(err);
  }
}
