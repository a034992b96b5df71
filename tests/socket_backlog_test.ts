import assert from "node:assert/strict";
import { parseProcNetTcp, SocketBacklog } from "../src/socket_backlog.ts";

const TABLE =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  29: 0100007F:BFEC 0100007F:46AB 01 00000000:00001000 00:00000000 00000000     0        0 39152 1
  31: 0100007F:46AB 0100007F:BFEC 01 001334DC:00000000 04:0000003E 00000000     0        1 39153 2
  32: 0100007F:46AB 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        1 39154 2
  33: 0100007F:46AB 0100007F:C001 04 00112221:00000000 04:0000003F 00000000     0        1 0 2
  34: 0100007F:1F90 0100007F:C002 01 00000100:00000000 00:00000000 00000000     0        1 0 2`;

Deno.test("parseProcNetTcp reads the send queue of established sockets on our port", () => {
  const out = new Map<number, number>();
  parseProcNetTcp(TABLE, 0x46ab, out);
  assert.equal(out.get(0xbfec), 0x1334dc);
  assert.equal(out.get(0xc000), 0);
  // FIN_WAIT1 (04) and other ports are not ours to pace.
  assert.equal(out.has(0xc001), false);
  assert.equal(out.has(0xc002), false);
});

Deno.test("SocketBacklog samples only while someone is tracked, and says null before a sample", async () => {
  let reads = 0;
  const sampled = Promise.withResolvers<void>();
  const backlog = new SocketBacklog({
    localPort: 0x46ab,
    fastMs: 5,
    now: () => 1000 + reads,
    read: () => {
      reads++;
      sampled.resolve();
      return Promise.resolve(TABLE);
    },
  });
  assert.equal(backlog.get(0xbfec), null);
  const handle = backlog.track();
  await sampled.promise;
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(backlog.get(0xbfec)?.bytes, 0x1334dc);
  handle.release();
  const after = reads;
  // With nobody tracked there is no timer: the sanitizer would fail this test if one leaked.
  assert.equal(reads, after);
  backlog.dispose();
});

Deno.test("SocketBacklog turns itself off where /proc cannot be read", async () => {
  const failed = Promise.withResolvers<void>();
  const backlog = new SocketBacklog({
    localPort: 1,
    fastMs: 5,
    now: () => 0,
    read: () => {
      failed.resolve();
      return Promise.reject(new Error("no /proc"));
    },
  });
  const handle = backlog.track();
  await failed.promise;
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(backlog.available, false);
  assert.equal(backlog.get(1), null);
  handle.release();
});

Deno.test("SocketBacklog samples fast for a new or lagging viewer and slowly otherwise", async () => {
  let now = 0;
  const reads: number[] = [];
  let wake = Promise.withResolvers<void>();
  const backlog = new SocketBacklog({
    localPort: 0x46ab,
    fastMs: 1,
    slowMs: 60_000,
    probationMs: 100,
    now: () => now,
    read: () => {
      reads.push(now);
      wake.resolve();
      return Promise.resolve(TABLE);
    },
  });
  const handle = backlog.track();
  await wake.promise;
  // Past probation and not lagging: the next reading is a minute away, so none comes now.
  now = 1000;
  wake = Promise.withResolvers<void>();
  const count = reads.length;
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(reads.length <= count + 1, "sampling went on at the fast rate after probation");
  // Lagging: readings come at the fast rate again.
  handle.setLagging(true);
  await wake.promise;
  assert.ok(reads.length > count);
  handle.release();
  backlog.dispose();
});
