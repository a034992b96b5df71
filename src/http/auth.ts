/**
 * Access control: HTTP basic auth (`--user`/`--password`) and a token (`--token`) accepted as
 * `Authorization: Bearer` or as `?token=` (the only form an `<img src>` can carry).
 *
 * @module
 */

/** Configured credentials; all absent means open access. */
export interface AuthConfig {
  user?: string;
  password?: string;
  token?: string;
}

const encoder = new TextEncoder();

/**
 * Compares two strings in time that depends only on their lengths, so response timing does not
 * reveal how much of a guess was right.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.byteLength ^ y.byteLength;
  const n = Math.max(x.byteLength, y.byteLength);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** True when any credential is configured. */
export function authEnabled(auth: AuthConfig): boolean {
  return Boolean(auth.user || auth.token);
}

/** Whether a request carries valid credentials. */
export function isAuthorized(auth: AuthConfig, headers: Headers, url: URL): boolean {
  if (!authEnabled(auth)) return true;
  const header = headers.get("authorization") ?? "";
  if (auth.token) {
    const query = url.searchParams.get("token");
    if (query !== null && constantTimeEqual(query, auth.token)) return true;
    const bearer = /^Bearer\s+(.+)$/i.exec(header);
    if (bearer && constantTimeEqual(bearer[1].trim(), auth.token)) return true;
  }
  if (auth.user && auth.password !== undefined) {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (basic) {
      let decoded = "";
      try {
        decoded = new TextDecoder().decode(Uint8Array.from(atob(basic[1]), (c) => c.charCodeAt(0)));
      } catch {
        return false;
      }
      const colon = decoded.indexOf(":");
      if (colon < 0) return false;
      // Evaluate both halves every time: no early exit that timing could reveal.
      const userOk = constantTimeEqual(decoded.slice(0, colon), auth.user);
      const passOk = constantTimeEqual(decoded.slice(colon + 1), auth.password);
      return userOk && passOk;
    }
  }
  return false;
}

/** The `WWW-Authenticate` challenge for a 401. */
export function challenge(auth: AuthConfig): string {
  return auth.user ? 'Basic realm="tuchuan", charset="UTF-8"' : 'Bearer realm="tuchuan"';
}
