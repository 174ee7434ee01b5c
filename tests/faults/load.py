#!/usr/bin/env python3
"""load.py: a steady client load for the fault-injection cases. Each of
--conns threads keeps one keep-alive connection to vigil and sends requests
back to back until --stop-file exists (or --seconds pass); every answer is
counted.

    load.py --port N --out FILE [--conns 4] [--path /load] [--post-every 0]
            [--stop-file FILE] [--seconds S] [--timeout S] [--progress FILE]

--post-every N  every Nth request of a connection is a POST with a small
                body (0: GETs only). A POST is not idempotent: SPEC.md lets
                vigil fail it (502) when its node dies under it, so POST
                failures are counted apart.
--progress FILE rewritten every 0.2 s with the number of good answers so
                far, so a test can see that requests keep flowing
--out FILE      written at the end, one JSON object:
                {"ok": N, "err": N, "post_ok": N, "post_err": N,
                 "statuses": {"200": N, ...}, "errors": ["...", ...],
                 "max_gap_ms": N, "seconds": S}
                err counts GETs that got no answer or an answer other than
                200; errors holds the first 20 of them, described;
                max_gap_ms is the longest time no request of any connection
                was answered (200) while the load ran.

Only 127.0.0.1 is ever connected to.
"""
import argparse
import http.client
import json
import os
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--path", default="/load")
    ap.add_argument("--post-every", type=int, default=0)
    ap.add_argument("--stop-file")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--progress")
    a = ap.parse_args()

    lock = threading.Lock()
    st = {"ok": 0, "err": 0, "post_ok": 0, "post_err": 0, "statuses": {},
          "errors": [], "max_gap_ms": 0}
    last_ok = [time.monotonic()]
    start = time.monotonic()
    end = start + a.seconds
    done = threading.Event()

    def stopped():
        if done.is_set():
            return True
        if time.monotonic() >= end or (a.stop_file and os.path.exists(a.stop_file)):
            done.set()
        return done.is_set()

    def record(post, status, what):
        now = time.monotonic()
        with lock:
            if status is not None:
                k = str(status)
                st["statuses"][k] = st["statuses"].get(k, 0) + 1
            good = status == 200
            if post:
                st["post_ok" if good else "post_err"] += 1
            else:
                st["ok" if good else "err"] += 1
            if good:
                gap = (now - last_ok[0]) * 1000
                if gap > st["max_gap_ms"]:
                    st["max_gap_ms"] = int(gap)
                last_ok[0] = now
            elif not post and len(st["errors"]) < 20:
                st["errors"].append("%.3f s: %s" % (now - start, what))

    def worker(n):
        conn = None
        i = 0
        while not stopped():
            i += 1
            post = a.post_every > 0 and i % a.post_every == 0
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.timeout)
            try:
                if post:
                    conn.request("POST", a.path, body=b"x" * 64,
                                 headers={"Content-Type": "text/plain"})
                else:
                    conn.request("GET", "%s?c=%d&i=%d" % (a.path, n, i))
                r = conn.getresponse()
                r.read()
                record(post, r.status, "status %d" % r.status)
                if r.getheader("Connection", "").lower() == "close" or r.will_close:
                    conn.close()
                    conn = None
            except Exception as e:  # no answer at all
                record(post, None, repr(e))
                conn.close()
                conn = None

    def progress():
        while not done.wait(0.2):
            with lock:
                n = st["ok"] + st["post_ok"]
            tmp = a.progress + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % n)
            os.replace(tmp, a.progress)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(a.conns)]
    if a.progress:
        threads.append(threading.Thread(target=progress))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the time since the last good answer counts too
    gap = (time.monotonic() - last_ok[0]) * 1000
    st["max_gap_ms"] = int(max(st["max_gap_ms"], gap))
    st["seconds"] = round(time.monotonic() - start, 3)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, a.out)


main()
