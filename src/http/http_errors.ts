/**
 * Error answers: JSON bodies `{"error": "...", "param": "..."}` with no-cache headers, and the
 * error a bad query value throws.
 *
 * @module
 */
import { JSON_CONTENT_TYPE, NO_CACHE_HEADERS } from "./protocol.ts";

/** A 4xx/5xx JSON error body, naming the parameter when one is at fault. */
export function jsonError(
  status: number,
  error: string,
  param?: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(param ? { error, param } : { error }), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ...NO_CACHE_HEADERS, ...headers },
  });
}

/** A query parameter (or body field) that failed validation: answered 400, naming it. */
export class BadParam extends Error {
  /** @param param the parameter's name; @param message what is wrong with its value */
  constructor(readonly param: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BadParam";
  }
}
