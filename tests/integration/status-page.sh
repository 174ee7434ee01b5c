#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run through t_wait and t_ok
# status-page.sh: the operator's status page (GET /, admin/status.html) as
# a browser shows it. Headless Chromium loads it from real vigil in front of
# a real PostgreSQL and simulated nodes; the test reads the rendered DOM
# (what the page's JavaScript made of /api/status and /api/events) and
# takes a screenshot. A failover, then the heartbeat database going away,
# then every node down, then no database configured at all.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$top_srcdir/tests/integration/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] ||
	t_skip_all "chromium is not installed (Debian package chromium)"
command -v curl >/dev/null || t_skip_all "curl is not installed"
[ -n "$_T_PY" ] || t_skip_all "python3 is not installed"
pg_start || t_skip_all "no PostgreSQL server to test against"

PY=$_T_PY
TIM=(--interval-ms 200 --failover-heartbeats 5 --startup-ms 500 --db-loss-standby-ms 0)
ADMIN=

# chrome ARGS...: one headless Chromium run, bounded, on a throw-away
# profile and HOME. Only loopback: no proxy, host names other than
# 127.0.0.1 do not resolve, no background traffic (updates, sync, ...).
mkdir -p "$T/home"
chrome() {
	HOME=$T/home timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T/chrome" --no-first-run --no-default-browser-check \
		--no-proxy-server --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --disable-domain-reliability \
		--no-pings --disable-breakpad --hide-scrollbars --mute-audio \
		--virtual-time-budget=5000 "$@" 2>>"$T/chromium.log"
}

# dom NAME: the page's DOM after 5 s (virtual time: a few refreshes) in
# $T/NAME.html, its facts in $T/NAME.json, and /api/status right after it
# in $T/NAME-api.json
dom() {
	chrome --dump-dom "http://127.0.0.1:$ADMIN/" >"$T/$1.html" || return 1
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/api/status" >"$T/$1-api.json" || return 1
	$PY - "$T/$1.html" >"$T/$1.json" <<'EOF'
import json, sys
from html.parser import HTMLParser

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.f = {"loaded": None, "active": None, "rows": [], "events": [], "ids": []}
        self.ev = None   # the li.event being read
        self.rps = None  # the td.rps being read

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if a.get("id"):
            self.f["ids"].append(a["id"])
        if a.get("id") == "app":
            self.f["loaded"] = a.get("data-loaded")
        if a.get("id") == "active":
            self.f["active"] = a.get("data-active")
        if tag == "tr" and "node" in cls:
            self.f["rows"].append({"node": a.get("data-node"), "state": a.get("data-state"),
                                   "active": a.get("data-active"), "rps": ""})
        if tag == "td" and "rps" in cls and self.f["rows"]:
            self.rps = []
        if tag == "li" and "event" in cls:
            self.ev = {"event": a.get("data-event"), "node": a.get("data-node"), "time": None, "text": []}
        if tag == "time" and self.ev is not None:
            self.ev["time"] = a.get("datetime")

    def handle_endtag(self, tag):
        if tag == "td" and self.rps is not None:
            self.f["rows"][-1]["rps"] = "".join(self.rps).strip()
            self.rps = None
        if tag == "li" and self.ev is not None:
            self.ev["text"] = " ".join("".join(self.ev["text"]).split())
            self.f["events"].append(self.ev)
            self.ev = None

    def handle_data(self, data):
        if self.ev is not None:
            self.ev["text"].append(data + " ")
        if self.rps is not None:
            self.rps.append(data)

p = Page()
with open(sys.argv[1], encoding="utf-8") as f:
    p.feed(f.read())
p.f["banners"] = sorted(i for i in p.f["ids"] if i.startswith("banner-"))
json.dump(p.f, sys.stdout)
EOF
}

# q FILE EXPR: EXPR in Python over d, the JSON in $T/FILE.json
q() {
	$PY -c '
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$T/$1.json" "$2"
}

# banners_of NAME: the banners shown, once the page rendered /api/status
banners_of() { q "$1" 'd["banners"] if d["loaded"] == "true" else "the page did not render /api/status"'; }

# rows_of NAME / api_rows_of NAME: "node=state=active" of each node, sorted
rows_of() { q "$1" '" ".join(sorted("%s=%s=%s" % (r["node"], r["state"], r["active"]) for r in d["rows"]))'; }
api_rows_of() { q "$1-api" '" ".join(sorted("%s=%s=%s" % (n["name"], n["state"], str(n["active"]).lower()) for n in d["nodes"]))'; }

api() { curl -s --max-time 2 "http://127.0.0.1:$ADMIN$1"; }
status() { # NODE|- FIELD: a field of /api/status
	api /api/status | $PY -c '
import json, sys
d = json.load(sys.stdin)
node, field = sys.argv[1], sys.argv[2]
v = d[field] if node == "-" else [n for n in d["nodes"] if n["name"] == node][0][field]
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}
state_is() { [ "$(status "$1" state)" = "$2" ]; }
has_event() { # EVENT: in /api/events
	api "/api/events?limit=50" | $PY -c '
import json, sys
sys.exit(0 if any(e.get("event") == sys.argv[1] for e in json.load(sys.stdin)["events"]) else 1)' "$1"
}

# conf [HEARTBEAT SETTINGS]: vigil's configuration for the sims
conf() {
	local name nodes=""
	for name in vro-1 vro-2 vro-3; do
		nodes+="${nodes:+,}{ name = \"$name\"; address = \"127.0.0.1:$(sim_port "$name")\"; priority = ${name#vro-}; }"
	done
	ADMIN=$(free_port)
	cat >"$T/vigil.conf" <<CONF
vigil = { name = "lb-t"; spool_dir = "$T/spool"; };
listen = ( { address = "127.0.0.1:$(free_port)"; } );
cluster = { name = "c-page"; nodes = ( $nodes ); };
health = {
  probe = { interval_ms = 200; timeout_ms = 200; rise = 2; fall = 3;
            standby = "\"state\"\\\\s*:\\\\s*\"STANDBY\""; };
  $1
};
admin = { address = "127.0.0.1:$ADMIN"; };
CONF
}

sim_start vro-1 running "${TIM[@]}" --priority 1 || t_bail "sim vro-1"
sim_start vro-2 standby "${TIM[@]}" --priority 2 || t_bail "sim vro-2"
sim_start vro-3 standby "${TIM[@]}" --priority 3 || t_bail "sim vro-3"
conf "heartbeat = { conninfo = \"$PG_CONNINFO\"; interval_ms = 200; failover_heartbeats = 5; };"
vigil_start "$T/vigil.conf"
t_wait 10 "vro-1 running and active" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"active\"])')\" = \"['vro-1']\" ]"

# ---------------------------------------------------------------- GET /
code=$(curl -s -o "$T/page.html" -D "$T/page.head" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$ADMIN/")
t_is "$code" 200 "GET / answers 200"
t_like "$(grep -i '^content-type:' "$T/page.head" | tr -d '\r')" '^[Cc]ontent-[Tt]ype: text/html' "as text/html"
t_ok "with admin/status.html as it is in the sources" cmp -s "$T/page.html" "$top_srcdir/admin/status.html"

# ---------------------------------------------------------------- a failover
simctl vro-1 shutdown >/dev/null
t_wait 10 "vro-1 shut down" state_is vro-1 shut_down
t_wait 10 "vro-2 took over" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"active\"])')\" = \"['vro-2']\" ]"
t_wait 5 "the failover is in /api/events" has_event failover
t_wait 5 "vro-3 standby" state_is vro-3 standby

chrome --screenshot="$T/status.png" --window-size=1280,900 "http://127.0.0.1:$ADMIN/" >/dev/null
t_ok "a screenshot of the page" test -f "$T/status.png"
t_ok "a real one: a 1280x900 PNG of more than 20 KB" "$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1280, 900), (w, h)
assert len(b) > 20000, len(b)' "$T/status.png"

dom failover || t_diag "chromium failed; see $T/chromium.log"
t_is "$(q failover 'd["loaded"]')" true "the page rendered /api/status"
t_is "$(rows_of failover)" "$(api_rows_of failover)" "one row per node with the state /api/status gives (node=state=active)"
t_is "$(rows_of failover)" "vro-1=shut_down=false vro-2=running=true vro-3=standby=false" "vro-1 shut_down, vro-2 running and active, vro-3 standby"
t_is "$(q failover 'd["active"]')" vro-2 "#active shows the active set"
t_is "$(q failover-api '",".join(d["active"])')" vro-2 "as /api/status does"
t_is "$(q failover 'len([e for e in d["events"] if e["event"] == "failover"])')" 1 "the failover is in the timeline"
t_like "$(q failover 'next((e["text"] for e in d["events"] if e["event"] == "failover"), "")')" "vro-1 → vro-2" "from vro-1 to vro-2"
t_ok "vro-1's node_down is in the timeline" test "$(q failover 'any(e["event"] == "node_down" and e["node"] == "vro-1" for e in d["events"])')" = true
t_is "$(q failover 'len(d["events"]) > 1 and all(e["time"] for e in d["events"]) and [e["time"] for e in d["events"]] == sorted((e["time"] for e in d["events"]), reverse=True)')" true "events newest first, each with its time"
t_is "$(banners_of failover)" "[]" "no banner when none applies"
t_like "$(q failover '" ".join(r["rps"] for r in d["rows"])')" '^((—|[0-9]+(\.[0-9])?) ?){3}$' "requests/s is a number or —"

# ---------------------------------------------------------------- no database
pg_stop
t_wait 10 "database stopped: heartbeat source down" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"heartbeat_source\"])')\" = down ]"
dom dbdown || t_diag "chromium failed; see $T/chromium.log"
t_is "$(banners_of dbdown)" '["banner-heartbeat-down"]' "the heartbeat database banner, alone"

# ---------------------------------------------------------------- all down
simctl vro-2 shutdown >/dev/null
simctl vro-3 shutdown >/dev/null
t_wait 10 "every node down: all_down" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"all_down\"])')\" = True ]"
dom alldown || t_diag "chromium failed; see $T/chromium.log"
t_is "$(banners_of alldown)" '["banner-all-down", "banner-heartbeat-down"]' "the all-down banner too"
t_is "$(q alldown 'd["active"]')" "" "an empty active set"
t_is "$(rows_of alldown)" "$(api_rows_of alldown)" "rows still as /api/status says"

# ---------------------------------------------------------------- no database configured
vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
pg_start_again || t_bail "PostgreSQL did not come back"
simctl vro-2 restart >/dev/null
simctl vro-2 running >/dev/null
conf ""
vigil_start "$T/vigil.conf"
t_wait 10 "without a database: heartbeat source none" bash -c "[ \"\$(curl -s http://127.0.0.1:$ADMIN/api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"heartbeat_source\"])')\" = none ]"
t_wait 10 "vro-2 back and running" state_is vro-2 running
dom nodb || t_diag "chromium failed; see $T/chromium.log"
t_is "$(banners_of nodb)" '["banner-heartbeat-none"]' "the no-database banner, alone"
t_is "$(rows_of nodb)" "$(api_rows_of nodb)" "rows as /api/status says"

vigil_stop
t_is "$VIGIL_STATUS" 0 "vigil stops cleanly (exit 0)"
t_done
