#!/usr/bin/env python3
"""receiver.py: a tiny HTTP server for the integration tests, standing in for
webhook receivers, paging services and the like. It records every request as
one JSON line and answers with the statuses it is told to.

    receiver.py --out FILE [--port N] [--host 127.0.0.1] [--port-file FILE]
                [--status-seq 500,500,200] [--delay-ms MS] [--body TEXT]

--port          TCP port (default 0: the kernel picks one; see --port-file)
--host          address to listen on (default 127.0.0.1)
--port-file     written (atomically) with the port once the server listens
--out           every request is appended to FILE, one JSON object a line:
                {"n": 1, "t": 1795428902.113, "method": "POST", "path": "/x?q=1",
                 "headers": {"Content-Type": "application/json", ...},
                 "body": "...", "status": 200}
                (headers seen twice are joined with ", "; the body is decoded
                as UTF-8 with invalid bytes replaced; chunked bodies are
                de-chunked). The line is written before the answer is sent,
                so a test that saw the answer finds the line.
--status-seq    statuses to answer in turn, comma-separated; the last one
                repeats (default 200)
--delay-ms      wait this long before each answer (default 0)
--body          the answer's body (default {"status":"success"} for 2xx,
                {"status":"error","code":N} otherwise)

It prints "receiver: listening on http://HOST:PORT" on stderr once ready, and
stops on SIGTERM or SIGINT.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_args():
    p = argparse.ArgumentParser(
        description="Record HTTP requests as JSON lines; answer given statuses.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--out", required=True)
    p.add_argument("--status-seq", default="200")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--body")
    a = p.parse_args()
    try:
        a.statuses = [int(s) for s in a.status_seq.split(",")]
    except ValueError:
        p.error("--status-seq: comma-separated HTTP statuses, like 500,500,200")
    if not a.statuses or any(s < 100 or s > 599 for s in a.statuses):
        p.error("--status-seq: statuses are 100..599")
    if a.delay_ms < 0:
        p.error("--delay-ms: 0 or more")
    return a


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.n = 0

    def record(self, entry):
        """Numbers the request, picks its status and appends its line."""
        with self.lock:
            seq = self.args.statuses
            status = seq[min(self.n, len(seq) - 1)]
            self.n += 1
            entry = dict(n=self.n, t=time.time(), **entry, status=status)
            with open(self.args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
                f.flush()
            return status


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "receiver.py"
    state = None  # set in main

    def log_message(self, fmt, *args):
        sys.stderr.write("receiver: %s\n" % (fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            data = b""
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline(8)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def handle_any(self):
        body = self.read_body()
        headers = {}
        for k, v in self.headers.items():
            headers[k] = headers[k] + ", " + v if k in headers else v
        status = self.state.record({
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": body.decode("utf-8", errors="replace"),
        })
        if self.state.args.delay_ms > 0:
            time.sleep(self.state.args.delay_ms / 1000.0)
        out = self.state.args.body
        if out is None:
            out = ('{"status":"success"}' if 200 <= status < 300 else
                   '{"status":"error","code":%d}' % status)
        out = out.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any
    do_OPTIONS = handle_any


def main():
    args = parse_args()
    Handler.state = State(args)
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("receiver: listening on http://%s:%d\n" % (args.host, port))
    sys.stderr.flush()
    srv.serve_forever()
    srv.server_close()


if __name__ == "__main__":
    main()
