#!/usr/bin/python3
"""smtp-sink.py: a local SMTP server for vigil's tests (Debian's
python3-aiosmtpd). Every message it accepts is appended to --out as one
JSON line: {"from": …, "to": […], "data": "…", "auth": "user"|null}.

  smtp-sink.py --port N --out FILE [--user U --password P] [--fail N]

--user/--password: require AUTH LOGIN/PLAIN with these (offered without
TLS, for the test only). --fail N: answer the first N messages with 451.
"""
import argparse
import json
import signal
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out, fail):
        self.out = out
        self.fail = fail

    async def handle_DATA(self, server, session, envelope):
        if self.fail > 0:
            self.fail -= 1
            return "451 4.3.0 try again later"
        who = session.auth_data.login.decode() if isinstance(
            session.auth_data, LoginPassword) else None
        with open(self.out, "a") as f:
            f.write(json.dumps({
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "auth": who,
            }) + "\n")
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--fail", type=int, default=0)
    a = ap.parse_args()

    def authenticator(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and
              data.login.decode() == a.user and
              data.password.decode() == a.password)
        return AuthResult(success=ok, auth_data=data)

    kw = {}
    if a.user:
        kw = dict(authenticator=authenticator, auth_required=True,
                  auth_require_tls=False)
    c = Controller(Sink(a.out, a.fail), hostname="127.0.0.1", port=a.port,
                   **kw)
    c.start()
    print("smtp-sink: listening on 127.0.0.1:%d" % a.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
