/**
 * The camera VM's guest agent: a small HTTP service that runs inside the qemu guest (started by
 * tests/camera/vm/init) so that the host-side camera tests can drive the guest. It runs commands
 * to completion (`v4l2-ctl`, `modprobe`, `rmmod`, `ln` for a by-id name as udev would make it),
 * and starts, signals and waits for long-running ones (tuchuan itself, or a program holding the
 * camera), keeping the tail of their output. Every wait and every output is bounded.
 *
 * It listens on all interfaces of the guest: the VM's user-mode network is `restrict=on`, so the
 * only way in is the host's forward from 127.0.0.1.
 *
 *   POST /run    {cmd, args, timeoutMs?}     -> {code, stdout, stderr, timedOut}
 *   POST /spawn  {cmd, args, env?, cwd?}     -> {id}
 *   GET  /proc/ID[?from=N]                   -> {running, code, signal, output, total}
 *   POST /proc/ID/signal {signal}            -> the same, after sending it
 *   POST /proc/ID/wait   {timeoutMs}         -> the same, once it exited or the time is up
 *
 * `total` counts every character the process printed; `?from=N` gives only what came after the
 * first N (of what is kept), so that polling a chatty process stays cheap for the guest.
 *   POST /shutdown                           -> kills what it started and exits (the VM stops)
 *
 * @module
 */

/** Most bytes kept of a command's stdout or stderr, or of a process's combined output. */
const MAX_OUTPUT = 512 * 1024;
/** Longest a `/run` command or a `/wait` may take. */
const MAX_WAIT_MS = 60_000;
/** Largest request body accepted. */
const MAX_BODY = 64 * 1024;

interface Spawned {
  child: Deno.ChildProcess;
  /** The last MAX_OUTPUT characters printed. */
  output: string;
  /** Characters printed in all. */
  total: number;
  status: Deno.CommandStatus | null;
  exited: Promise<void>;
}

const spawned = new Map<number, Spawned>();
let nextId = 1;

/** Keeps the last `MAX_OUTPUT` characters of `text`. */
function tail(text: string): string {
  return text.length > MAX_OUTPUT ? text.slice(text.length - MAX_OUTPUT) : text;
}

async function readBody(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (text.length > MAX_BODY) throw new RangeError(`Request body over ${MAX_BODY} bytes`);
  return text ? JSON.parse(text) : {};
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TypeError(`Invalid ${what}: expected an array of strings`);
  }
  return value;
}

async function drain(stream: ReadableStream<Uint8Array>, add: (text: string) => void) {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
}

/** Runs a command to completion, killing it after `timeoutMs`. */
async function run(body: Record<string, unknown>): Promise<unknown> {
  const timeoutMs = Math.min(Number(body.timeoutMs ?? 20_000), MAX_WAIT_MS);
  const child = new Deno.Command(String(body.cmd), {
    args: strings(body.args ?? [], "args"),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill(child, "SIGKILL");
  }, timeoutMs);
  const drained = Promise.all([
    drain(child.stdout, (t) => stdout = tail(stdout + t)),
    drain(child.stderr, (t) => stderr = tail(stderr + t)),
  ]);
  try {
    const status = await child.status;
    // A background process the command left behind may hold its pipes open: read what is
    // there, but do not wait for it.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([drained, new Promise((r) => grace = setTimeout(r, 500))]);
    clearTimeout(grace);
    return { code: status.code, signal: status.signal, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** Signals `child`, which may have exited already. */
function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

function spawn(body: Record<string, unknown>): unknown {
  const env = (body.env ?? {}) as Record<string, string>;
  const child = new Deno.Command(String(body.cmd), {
    args: strings(body.args ?? [], "args"),
    env,
    cwd: typeof body.cwd === "string" ? body.cwd : undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const id = nextId++;
  const entry: Spawned = { child, output: "", total: 0, status: null, exited: Promise.resolve() };
  const add = (text: string) => {
    entry.output = tail(entry.output + text);
    entry.total += text.length;
  };
  entry.exited = Promise.all([drain(child.stdout, add), drain(child.stderr, add)])
    .then(() => child.status)
    .then((status) => {
      entry.status = status;
    });
  spawned.set(id, entry);
  return { id, pid: child.pid };
}

function describe(entry: Spawned, from = 0): unknown {
  const kept = entry.total - entry.output.length;
  return {
    running: entry.status === null,
    code: entry.status?.code ?? null,
    signal: entry.status?.signal ?? null,
    output: entry.output.slice(Math.max(0, from - kept)),
    total: entry.total,
  };
}

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  if (path === "/ping") {
    return json({ uptime: Deno.readTextFileSync("/proc/uptime").split(" ")[0] });
  }
  if (req.method === "POST" && path === "/run") return json(await run(await readBody(req)));
  if (req.method === "POST" && path === "/spawn") return json(spawn(await readBody(req)));
  if (req.method === "POST" && path === "/shutdown") {
    for (const entry of spawned.values()) {
      if (entry.status === null) kill(entry.child, "SIGKILL");
    }
    setTimeout(() => Deno.exit(0), 100);
    return json({ ok: true });
  }
  const m = /^\/proc\/(\d+)(\/signal|\/wait)?$/.exec(path);
  const entry = m ? spawned.get(Number(m[1])) : undefined;
  if (!entry) return json({ error: `No such path or process: ${path}` }, 404);
  if (m![2] === "/signal") {
    const { signal } = await readBody(req);
    if (entry.status === null) kill(entry.child, String(signal ?? "SIGTERM") as Deno.Signal);
    return json(describe(entry, entry.total));
  }
  if (m![2] === "/wait") {
    const { timeoutMs } = await readBody(req);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      entry.exited,
      new Promise((r) => timer = setTimeout(r, Math.min(Number(timeoutMs ?? 5000), MAX_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return json(describe(entry, entry.total));
  }
  return json(describe(entry, Number(url.searchParams.get("from") ?? 0)));
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--port");
  const port = i >= 0 ? Number(Deno.args[i + 1]) : 7000;
  Deno.serve({ hostname: "0.0.0.0", port, onListen: () => {} }, async (req) => {
    try {
      return await handle(req);
    } catch (err) {
      return json({ error: String((err as Error)?.message ?? err) }, 400);
    }
  });
  console.log(`[agent] listening on port ${port}`);
}
