#!/usr/bin/env python3
"""slow.py: slow clients for tests/faults/slow-clients.sh, all on asyncio.

    slow.py --port N --out FILE --ready FILE --stop-file FILE
            [--loris 1000] [--stalled 20] [--trickle 10] [--big BYTES]

--loris N    connections that send a request head one byte a second and
             never finish it (slowloris); each ends when vigil answers
             (the status is counted) or closes
--stalled N  connections that GET /big?bytes=BIG, read 16 KiB of it, then
             stop reading
--trickle N  connections that GET /big?bytes=BIG and read 16 KiB every
             half second: slow, but reading
--ready FILE written once every connection is open (or failed):
             "ready" and the local ports of the stalled connections
Once --stop-file exists, the stalled connections read what is left, to
tell whether vigil cut them, the trickling ones stop, and --out gets:
    {"opened": N, "open_failed": N, "loris": N, "loris_status": {"408": N, "closed": N}, "loris_open": N,
     "stalled_cut": N, "trickle_cut": N, "trickle_bytes_min": N}
Only 127.0.0.1 is ever connected to.
"""
import argparse
import asyncio
import json
import os
import resource
import socket


async def connect(a, st):
    # A small receive buffer, as a far client's would be in effect: on
    # loopback the kernel would otherwise take megabytes of each /big
    # answer at once, a burst that starves the simulated nodes' probes.
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(s, ("127.0.0.1", a.port))
        r, w = await asyncio.open_connection(sock=s, limit=16384)
    except OSError:
        s.close()
        st["open_failed"] += 1
        return None, None
    st["opened"] += 1
    return r, w


async def loris(a, st, done):
    r, w = await connect(a, st)
    if r is None:
        return
    w.write(b"GET /loris HTTP/1.1\r\nHost: vip\r\nX-Pad: ")
    try:
        while not done.is_set():
            try:
                line = await asyncio.wait_for(r.readline(), 1.0)
            except asyncio.TimeoutError:
                w.write(b"a")
                continue
            except ConnectionError:
                line = b""
            key = line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"
            st["loris_status"][key] = st["loris_status"].get(key, 0) + 1
            return
        st["loris_open"] += 1
    finally:
        w.close()


async def big(a, r, w):
    w.write(b"GET /big?bytes=%d HTTP/1.1\r\nHost: vip\r\n\r\n" % a.big)
    await w.drain()
    return len(await r.read(16384))


async def stalled(a, st, stop):
    r, w = await connect(a, st)
    if r is None:
        return
    st["stalled_ports"].append(w.get_extra_info("sockname")[1])
    n = await big(a, r, w)
    await stop.wait()
    try:
        while True:
            # bounded: a connection vigil neither cut nor feeds is not cut
            b = await asyncio.wait_for(r.read(1 << 20), 10.0)
            if not b:
                break
            n += len(b)
    except (ConnectionError, asyncio.TimeoutError):
        pass
    st["stalled_cut"] += n < a.big
    w.close()


async def trickle(a, st, stop):
    r, w = await connect(a, st)
    if r is None:
        return
    n = await big(a, r, w)
    eof = False
    while not stop.is_set():
        await asyncio.sleep(0.5)
        try:
            b = await asyncio.wait_for(r.read(16384), 2.0)
        except asyncio.TimeoutError:
            continue  # nothing this time: slow, not cut
        except ConnectionError:
            b = b""
        if not b:
            eof = True
            break
        n += len(b)
    st["trickle_cut"] += eof
    st["trickle_bytes"].append(n)
    w.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--loris", type=int, default=1000)
    ap.add_argument("--stalled", type=int, default=20)
    ap.add_argument("--trickle", type=int, default=10)
    ap.add_argument("--big", type=int, default=50000000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    st = {"opened": 0, "open_failed": 0, "loris": a.loris, "loris_status": {}, "loris_open": 0,
          "stalled_cut": 0, "trickle_cut": 0, "trickle_bytes": [], "stalled_ports": []}
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loris(a, st, stop)) for _ in range(a.loris)]
    tasks += [asyncio.create_task(stalled(a, st, stop)) for _ in range(a.stalled)]
    tasks += [asyncio.create_task(trickle(a, st, stop)) for _ in range(a.trickle)]
    total = len(tasks)
    while st["opened"] + st["open_failed"] < total:
        await asyncio.sleep(0.05)
    with open(a.ready, "w") as f:
        f.write("ready %s\n" % " ".join(map(str, st["stalled_ports"])))
    while not os.path.exists(a.stop_file):
        await asyncio.sleep(0.1)
    stop.set()
    # every task ends within its own bounds; this one says if some did not
    done, pending = await asyncio.wait(tasks, timeout=20)
    for t in pending:
        t.cancel()
    st["stuck"] = len(pending)
    st["trickle_bytes_min"] = min(st.pop("trickle_bytes") or [0])
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, a.out)


asyncio.run(main())
