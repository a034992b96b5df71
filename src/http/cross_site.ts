/**
 * Cross-site request forgery: with no auth set (the usual LAN camera), any web page a user
 * opens could otherwise pause the camera or change its controls through a plain HTML form.
 * Requests that change state are refused when the browser says they come from another site
 * (`Sec-Fetch-Site: cross-site` or `same-site`), or carry an `Origin` that is neither this
 * server's nor the `--cors` origin. Requests with neither header (curl, scripts) are not from a
 * browser page and pass.
 * See https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-Fetch-Site.
 *
 * @module
 */

/** Why a state-changing request is refused, or null when it may go on. */
export function crossSiteRefusal(req: Request, url: URL, cors: string | undefined): string | null {
  const origin = req.headers.get("origin");
  const site = req.headers.get("sec-fetch-site");
  const own = `${url.protocol}//${req.headers.get("host") ?? url.host}`;
  const allowed = (o: string) => o === own || cors === "*" || o === cors;
  if (origin !== null && origin !== "null" && allowed(origin)) return null;
  if (site === "cross-site" || site === "same-site") {
    return `Refused a ${site} request${
      origin ? ` from ${origin}` : ""
    } (allow an origin with --cors)`;
  }
  if (origin !== null) return `Refused a request from ${origin} (allow it with --cors)`;
  return null;
}
