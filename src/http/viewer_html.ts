/**
 * The viewer page served at `/`, inlined so it travels inside the compiled binary.
 *
 * @module
 */

/** The viewer page. */
export const VIEWER_HTML: string = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>tuchuan</title></head>
<body style="margin:0;background:#111;color:#eee;font:14px system-ui">
<img id="stream" src="stream" alt="live stream" style="max-width:100%;display:block;margin:auto">
</body></html>
`;
