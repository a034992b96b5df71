/**
 * Keeps secrets out of everything a user or a LAN peer can read: logs, `/state`, `/healthz`,
 * `/metrics`, error bodies and the NO SIGNAL card. ffmpeg and fetch repeat the input URL in their
 * errors, so every message that may carry one goes through {@link redactUrls}.
 *
 * @module
 */

// scheme://[userinfo@]rest-of-the-url, up to whitespace or a quote.
const URL_PATTERN = /([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]*)/gi;

/**
 * Masks the credentials and the query string of every URL in `text`:
 * `rtsp://admin:pw@cam/live?apikey=K` becomes `rtsp://***@cam/live?***`. Camera URLs carry
 * tokens in query strings as often as in the user-info part.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_PATTERN, (_match, scheme: string, rest: string) => {
    // The user-info ends at the last "@" before the path; an "@" later on is part of the path.
    const pathStart = rest.search(/[/?#]/);
    const authority = pathStart === -1 ? rest : rest.slice(0, pathStart);
    let tail = pathStart === -1 ? "" : rest.slice(pathStart);
    const at = authority.lastIndexOf("@");
    const host = at === -1 ? authority : `***@${authority.slice(at + 1)}`;
    const q = tail.search(/[?#]/);
    if (q !== -1) tail = `${tail.slice(0, q)}${tail[q] === "?" ? "?***" : ""}`;
    return `${scheme}${host}${tail}`;
  });
}

/**
 * Every URL in `text` cut down to its scheme (`rtsp://…`): for what an unauthenticated route
 * (`/healthz`) says, where even a camera's host name is more than a stranger needs.
 */
export function hideUrls(text: string): string {
  return text.replace(URL_PATTERN, (_m, scheme: string) => `${scheme}…`);
}

/**
 * What an unauthenticated route may say about a source: its kind only for URLs (host names and
 * paths of cameras are nobody's business), the redacted input otherwise.
 */
export function publicInput(input: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  return scheme ? `${scheme[1].toLowerCase()}://…` : redactUrls(input);
}
