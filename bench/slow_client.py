#!/usr/bin/env python3
"""A deliberately slow MJPEG viewer for the `slow` benchmark scenario (python3 stdlib only).

It opens /stream with a small receive buffer (SO_RCVBUF set *before* connect, so the TCP window is
negotiated small), reads one complete part, sleeps about a second, and repeats. It prints one JSON
line per frame with the frame's age (now - X-Timestamp, seconds): a server that queues frames for
a slow viewer shows a growing age; one that sends the newest frame when the socket drains keeps it
flat, once the server's kernel send buffer is full (on loopback Linux lets it grow to MiBs, which
is a backlog no user-space server can drop). Servers without X-Timestamp (the seed) get
"age_s": null and a note saying so.

Usage: slow_client.py --port PORT [--path /stream] [--seconds 20] [--interval 1] [--rcvbuf 8192]
Output (stdout, JSON lines):
  {"event": "connected", "status": 200, "boundary": "...", "rcvbuf": N, "local_port": P}
  {"event": "note", "message": "..."}
  {"event": "frame", "n": 1, "t": 0.03, "bytes": 19807, "jpeg": true, "age_s": 0.012,
   "ts": 1764107611.123456}     (ts = the part's X-Timestamp; age_s and ts are null without it)
  {"event": "done", "frames": N}          or  {"event": "error", "message": "..."}
"""
import argparse
import json
import re
import socket
import sys
import time

HOST = "127.0.0.1"  # The benchmark only ever loads the local machine.
READ_SIZE = 4096  # Small reads keep this client's own buffer tiny: the backlog stays in TCP.


def emit(**fields):
    print(json.dumps(fields), flush=True)


class HttpBody:
    """The response body read from the socket, with chunked transfer coding removed."""

    def __init__(self, sock, raw, chunked):
        self.sock = sock
        self.raw = raw
        self.chunked = chunked
        self.remaining = 0  # Bytes left in the current chunk.

    def _recv(self):
        data = self.sock.recv(READ_SIZE)
        if not data:
            raise EOFError("server closed the connection")
        self.raw += data

    def read_some(self):
        """Returns the next decoded bytes (at most about READ_SIZE)."""
        if not self.chunked:
            if not self.raw:
                self._recv()
            data, self.raw = self.raw, b""
            return data
        while self.remaining == 0:
            while b"\r\n" not in self.raw:
                self._recv()
            line, self.raw = self.raw.split(b"\r\n", 1)
            if not line:
                continue  # The CRLF that ends the previous chunk's data.
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                raise EOFError("server ended the stream")
            self.remaining = size
        if not self.raw:
            self._recv()
        take = min(self.remaining, len(self.raw))
        data, self.raw = self.raw[:take], self.raw[take:]
        self.remaining -= take
        return data


class PartReader:
    """Reads multipart parts leniently: opening boundary optional, Content-Length optional."""

    def __init__(self, body, boundary):
        self.body = body
        self.delimiter = b"\r\n--" + boundary.encode("latin-1")
        self.dash_boundary = b"--" + boundary.encode("latin-1")
        self.pending = b""

    def _fill(self):
        self.pending += self.body.read_some()

    def read_part(self):
        """Returns (headers dict with lower-case names, body bytes) of the next part."""
        while True:
            self.pending = self.pending.lstrip(b"\r\n")
            end = self.pending.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        head, self.pending = self.pending[:end], self.pending[end + 4 :]
        headers = {}
        for line in head.split(b"\r\n"):
            if not line or line.startswith(self.dash_boundary):
                continue
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length")
        if length is not None and length.isdigit():
            n = int(length)
            while len(self.pending) < n:
                self._fill()
            data, self.pending = self.pending[:n], self.pending[n:]
            return headers, data
        while True:
            at = self.pending.find(self.delimiter)
            if at >= 0:
                data = self.pending[:at]
                self.pending = self.pending[at + len(self.delimiter) :]
                return headers, data.rstrip(b"\r\n")
            self._fill()


def open_stream(port, path, rcvbuf, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Before connect: the window scale is fixed by the SYN, so a later change would not shrink it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((HOST, port))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: tuchuan-bench-slow\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(request.encode("latin-1"))
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = sock.recv(READ_SIZE)
        if not data:
            raise EOFError("server closed the connection before the response head")
        raw += data
    head, raw = raw.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    match = re.search(r'boundary="?([^";]+)"?', headers.get("content-type", ""))
    if status != 200 or not match:
        raise RuntimeError(f"HTTP {status}, content-type {headers.get('content-type')!r}")
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    actual = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    emit(
        event="connected",
        status=status,
        boundary=match.group(1),
        rcvbuf=actual,
        local_port=sock.getsockname()[1],
    )
    return sock, PartReader(HttpBody(sock, raw, chunked), match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to keep reading")
    parser.add_argument("--interval", type=float, default=1.0, help="sleep between frames, s")
    parser.add_argument("--rcvbuf", type=int, default=8192, help="SO_RCVBUF, bytes")
    args = parser.parse_args()

    start = time.monotonic()
    frames = 0
    sock = None
    try:
        sock, parts = open_stream(args.port, args.path, args.rcvbuf, timeout=10)
        noted = False
        while time.monotonic() - start < args.seconds:
            headers, body = parts.read_part()
            now = time.time()
            frames += 1
            stamp = headers.get("x-timestamp")
            captured = None
            if stamp is not None:
                try:
                    captured = float(stamp)
                except ValueError:
                    captured = None
            age = None if captured is None else now - captured
            if age is None and not noted:
                noted = True
                emit(event="note", message="no X-Timestamp on the parts: frame age is n/a")
            emit(
                event="frame",
                n=frames,
                t=round(time.monotonic() - start, 3),
                bytes=len(body),
                jpeg=body[:2] == b"\xff\xd8" and body[-2:] == b"\xff\xd9",
                age_s=age,
                ts=captured,
            )
            # Sleep, but never past the deadline: the harness waits for this process to exit.
            time.sleep(max(0.0, min(args.interval, args.seconds - (time.monotonic() - start))))
        emit(event="done", frames=frames)
    except (OSError, EOFError, RuntimeError, ValueError) as err:
        emit(event="error", message=f"{type(err).__name__}: {err}", frames=frames)
        return 1
    finally:
        if sock is not None:
            sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
