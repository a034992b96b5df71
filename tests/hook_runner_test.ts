/**
 * Hooks (issue 11): a user's program on first viewer, last viewer, offline and online, run
 * without a shell with the details in TUCHUAN_* variables, never blocking the stream, killed
 * after --hook-timeout, one at a time per camera, in the order of the events.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Logger } from "../src/core/logger.ts";
import { startServer } from "../src/server.ts";
import { getState, StreamWatcher, waitFor } from "./stream_helpers.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/** A log that keeps its lines. */
function keepingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string) => void lines.push(m);
  return { log: { debug: keep, info: keep, warn: keep, error: keep }, lines };
}

/**
 * A hook program that records its start and end (with its environment) in `file`, taking
 * `seconds` in between.
 */
async function recorder(dir: string, seconds: number): Promise<{ argv: string[]; file: string }> {
  const script = `${dir}/hook.sh`;
  const file = `${dir}/events.txt`;
  await Deno.writeTextFile(
    script,
    `echo "start $TUCHUAN_EVENT camera=$TUCHUAN_CAMERA viewers=$TUCHUAN_VIEWERS reason=$TUCHUAN_REASON" >> "$1"\n` +
      `sleep ${seconds}\necho "end $TUCHUAN_EVENT" >> "$1"\n`,
  );
  return { argv: ["/bin/sh", script, file], file };
}

async function lines(file: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(file)).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

Deno.test("first and last viewer run their hooks in order, one at a time, with the details", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_hooks_" });
  const { argv, file } = await recorder(dir, 0.5);
  const { log, lines: logged } = keepingLog();
  const server = await startServer({
    port: 0,
    source: FIXTURE,
    hooks: { onFirstViewer: argv, onLastViewer: argv },
  }, { log });
  try {
    // A viewer who comes and goes at once: "last viewer" waits for "first viewer" to finish.
    const a = await StreamWatcher.open(`${server.url}stream`);
    await a.waitForCount(1);
    await a.close();
    await waitFor(async () => (await lines(file)).length === 4, "both hooks to run", 10_000);
    assert.deepEqual(await lines(file), [
      "start first-viewer camera=default viewers=1 reason=",
      "end first-viewer",
      "start last-viewer camera=default viewers=0 reason=",
      "end last-viewer",
    ]);
    assert.equal(logged.filter((l) => /Hook (first|last)-viewer .* ran: exit 0/.test(l)).length, 2);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a slow hook never holds the stream back, and is killed after --hook-timeout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_hooks_" });
  const { argv, file } = await recorder(dir, 30);
  const { log, lines: logged } = keepingLog();
  const server = await startServer({
    port: 0,
    source: FIXTURE,
    hookTimeout: 1,
    hooks: { onFirstViewer: argv },
  }, { log });
  try {
    const w = await StreamWatcher.open(`${server.url}stream`);
    // The hook sleeps for 30 s; frames keep coming meanwhile.
    await waitFor(async () => (await lines(file)).length === 1, "the hook to start");
    await w.waitForCount(5);
    await waitFor(
      () => logged.some((l) => /Hook first-viewer .* killed after 1 s/.test(l)),
      "the kill",
    );
    assert.deepEqual(await lines(file), ["start first-viewer camera=default viewers=1 reason="]);
    const metrics = await (await fetch(`${server.url}metrics`)).text();
    assert.match(metrics, /^tuchuan_hooks_failed_total\{camera="default"\} 1$/m);
    await w.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("offline and online hooks carry the reason; failures and missing programs are logged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_hooks_" });
  const { argv, file } = await recorder(dir, 0);
  const { log, lines: logged } = keepingLog();
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const server = await startServer({
    port: 0,
    source: `http://127.0.0.1:${port}/stream`,
    alwaysOn: true,
    hooks: { onOffline: argv, onOnline: ["/nonexistent/program"], onFirstViewer: ["/bin/false"] },
  }, { log, timing: { initialBackoffMs: 5000 } });
  try {
    await waitFor(async () => (await lines(file)).length >= 2, "the offline hook", 10_000);
    const [start] = await lines(file);
    assert.match(
      start,
      /^start offline camera=default viewers=0 reason=Cannot reach http:\/\/127\.0\.0\.1:\d+\/stream/,
    );
    const w = await StreamWatcher.open(`${server.url}stream`);
    await w.waitForCount(1);
    await waitFor(
      () => logged.some((m) => /Hook first-viewer \(\/bin\/false\) failed: exit 1/.test(m)),
      "the failure",
    );
    await w.close();
    assert.equal((await getState(server.url)).source.online, false);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
