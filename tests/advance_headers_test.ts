import assert from "node:assert/strict";
import { partModeFor } from "../src/http/advance_headers.ts";

Deno.test("advance headers go to every browser's image request, unless overridden", () => {
  const chromiumImg = new Headers({
    "sec-fetch-dest": "image",
    "sec-ch-ua": '"Chromium";v="156", "Not-A.Brand";v="24"',
    "user-agent":
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0.0.0 Safari/537.36",
  });
  const firefoxImg = new Headers({
    "sec-fetch-dest": "image",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
  });
  const safariImg = new Headers({
    "sec-fetch-dest": "image",
    "user-agent":
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
  });
  const chromiumFetch = new Headers({
    "sec-fetch-dest": "empty",
    "sec-ch-ua": '"Chromium";v="156"',
  });
  const ffmpeg = new Headers({ "user-agent": "Lavf/59.27.100" });
  for (const img of [chromiumImg, firefoxImg, safariImg]) {
    assert.equal(partModeFor(img, null), "advance");
    assert.equal(partModeFor(img, false), "normal");
  }
  assert.equal(partModeFor(chromiumFetch, null), "normal");
  assert.equal(partModeFor(ffmpeg, null), "normal");
  assert.equal(partModeFor(ffmpeg, true), "advance");
});
