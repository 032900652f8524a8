#!/usr/bin/env python3
"""Writes fixtures/hostile/: malformed and hostile audit logs built from our own OpenBao recording
(fixtures/openbao-2.7/basic.log). Deterministic: rerunning produces the same bytes."""
import json, os, random

def dumps(v, **kw):
    return json.dumps(v, separators=(",", ":"), **kw)

root = os.path.join(os.path.dirname(__file__), "..")
src = [l.rstrip("\n") for l in open(os.path.join(root, "fixtures/openbao-2.7/basic.log"))]
out = os.path.join(root, "fixtures/hostile")
rnd = random.Random(20261122)

def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

lines = [l.encode() for l in src]
# A line cut mid-write, then the log goes on.
write("truncated.log", b"\n".join(lines[:9] + [lines[9][:500]] + lines[10:]) + b"\n")
# Invalid UTF-8 inside a string, a lone continuation byte, and an overlong slash.
bad = lines[:]
bad[1] = bad[1].replace(b"sys/mounts/kv", b"sys/mounts/k\xff")
bad[7] = bad[7].replace(b"tenant-a", b"tenant-\x80a")
bad[11] = bad[11].replace(b"sys/auth/approle", b"sys\xc0\xafauth/approle")
write("invalid-utf8.log", b"\n".join(bad) + b"\n")
# Binary garbage and runs of NUL bytes between real entries (a torn disk write).
garbage = bytes(rnd.randrange(256) for _ in range(3000)).replace(b"\n", b"\x00")
write("binary.log", b"\n".join(lines[:6] + [garbage, b"\x00" * 4096] + lines[6:]) + b"\n")
# Windows line ends everywhere.
write("crlf.log", b"\r\n".join(lines) + b"\r\n")
# Syslog relay headers and a Vault `prefix` on every line.
write("prefixed.log", "\n".join(
    (f"<134>Nov 22 08:09:{i % 60:02d} bao-1 bao[812]: {l}" if i % 2 else f"VAULT-AUDIT {l}") for i, l in enumerate(src)) + "\n")
# Pretty-printed objects (jq output), concatenated.
write("pretty.json", "\n".join(json.dumps(json.loads(l), indent=2) for l in src) + "\n")
# Deep nesting inside request data: 100,000 levels (a stack-overflow attempt).
deep = json.loads(src[6])
deep_text = dumps(deep)
nest = "[" * 100000 + "]" * 100000
assert '"data":{' in deep_text
write("deep.log", "\n".join(src[:6] + [deep_text.replace('"data":{', '"data":{"x":' + nest + ',', 1)] + src[7:]) + "\n")
# Strings that try to drive a terminal, a spreadsheet and a browser.
hostile = []
for l in src:
    v = json.loads(l)
    r = v.get("request", {})
    if r.get("path") == "kv/data/tenant-a/db":
        r["path"] = "kv/data/tenant-a/\u001b]0;owned\u0007\u001b[2J=cmd|'/C calc'!A0<script>alert(1)</script>"
    if "auth" in v and v["auth"].get("display_name") == "root":
        v["auth"]["display_name"] = "root\u001b[31m\r\n<img src=x onerror=alert(1)>"
    hostile.append(dumps(v))
write("hostile-strings.log", "\n".join(hostile) + "\n")
# A device with log_raw: tokens and accessors in clear instead of HMACs.
raw = []
for l in src:
    v = json.loads(l)
    for obj in (v.get("auth", {}), v.get("request", {})):
        for k in ("client_token",):
            if k in obj:
                obj[k] = "hvs.CAESIJ3xkVd8JjQvbzMoWl4ZZdMcfWZwqdUWX6jSYMLCYVIaGh4KHGh2cy5pTmJySFZLNlBPbm9kaXpTQmlVWlJ1bHc"
    raw.append(dumps(v))
write("log-raw.log", "\n".join(raw) + "\n")
print("wrote", sorted(os.listdir(out)))
# Clear tokens where clients and log_raw devices put them: in secret paths (mid-path, and as the
# first segment below the mount, where the tenant is read), in display names, in errors, and in
# `auth/token/lookup/<token>`; service, batch and legacy forms.
HVS = "hvs.CAESIJ3xkVd8JjQvbzMoWl4ZZdMcfWZwqdUWX6jSYMLCYVIaGh4KHGh2cy5pTmJySFZLNlBPbm9kaXpTQmlVWlJ1bHc"
HVB = "hvb.AAAAAQJgxDgqsGNorpoOR7hPZ5SU-ynBvCl5Rr9ebG6X9Nh8Mi5rAvVmk3Fr8lYa"
LEGACY = "s.Hh3nJ6ZyB1Fq9ePn8dmxRBY8"
tokens = []
for i, l in enumerate(src):
    v = json.loads(l)
    r = v.get("request", {})
    if r.get("path") == "kv/data/tenant-a/db":
        r["path"] = f"kv/data/{HVB}/db" if 8 < i < 20 else f"kv/data/acme/{HVS}"
    elif r.get("path") == "sys/internal/ui/mounts/kv/tenant-a/db":
        r["path"] = f"auth/token/lookup/{LEGACY}"
    for obj in (v.get("auth", {}), r):
        if "client_token" in obj:
            obj["client_token"] = HVS
    if v.get("auth", {}).get("display_name") == "root":
        v["auth"]["display_name"] = f"token-{LEGACY}"
    if v.get("error"):
        v["error"] = f"permission denied for {HVB}"
    tokens.append(dumps(v))
write("tokens.log", "\n".join(tokens) + "\n")
# Entries Vault cannot have written: a key twice, or a field of another type. Each is malformed
# (kind duplicate-key or wrong-type) on every read path; the line numbers are in README.md.
shapes = src[:]
def edit(i, old, new):
    assert old in shapes[i], (i, old)
    shapes[i] = shapes[i].replace(old, new, 1)
edit(2, '"type":"response"', '"type":"response","type":"request"')        # line 3
edit(5, '"type":"request"', '"type":"request","type":"response"')         # line 6: a request
edit(10, '"path":"kv/data/tenant-a/db"', '"path":"kv/data/tenant-a/db","path":"sys/health"')  # line 11
edit(13, '"path":"auth/approle/role/app"', '"path":7')                    # line 14: a request
edit(14, '"path":"auth/approle/role/app"', '"path":null')                 # line 15
edit(16, '"path":"auth/approle/role/app/role-id"', '"path":{"p":"x"}')   # line 17
edit(18, '"type":"response"', '"type":2')                                 # line 19
r = json.loads(shapes[20])
shapes[20] = dumps(r).replace(dumps(r["request"]), '"' + r["request"]["path"] + '"', 1)  # line 21
write("malformed-shapes.log", "\n".join(shapes) + "\n")
# Times no device can have written: year 9999 on line 1, year 2200 on lines 11 (a secret read) and
# 27 (the last line), and a time that is not a time on line 14. The real entries span lines 2-26.
times = src[:]
def retime(i, new):
    v = json.loads(times[i])
    times[i] = times[i].replace('"time":"' + v["time"] + '"', '"time":"' + new + '"', 1)
    assert new in times[i], i
retime(0, "9999-12-31T23:59:59Z")             # line 1
retime(10, "2200-01-01T00:00:00.5Z")          # line 11
retime(13, "2026-13-45Tnoon")                 # line 14: not a time
retime(26, "2200-06-01T00:00:00Z")            # line 27
write("times.log", "\n".join(times) + "\n")
