# The Python function of seed 004 (python:3.10-slim in production), forked by the watchdog for each
# call: the request body (JSON) on stdin, the answer on stdout. It does the work the call asks for, so
# a load profile can drive its CPU and memory: cpuMs of computation, allocMb of memory held until it
# answers, sleepMs of waiting (from the JSON body, or the query of a GET).
import hashlib
import json
import os
import platform
import sys
import time
import urllib.parse

text = sys.stdin.read()
# The call's query (the watchdog passes it in Http_Query) gives the same fields for a GET; the body wins.
request = dict(urllib.parse.parse_qsl(os.environ.get("Http_Query", "")))
request.update(json.loads(text) if text.strip() else {})
cpu_ms = max(0.0, float(request.get("cpuMs", 0)))
alloc_mb = max(0, int(request.get("allocMb", 0)))
sleep_ms = max(0.0, float(request.get("sleepMs", 0)))

held = [bytearray(b"\x01" * (1024 * 1024)) for _ in range(alloc_mb)]
until = time.perf_counter() + cpu_ms / 1000
digest = bytes(32)
rounds = 0
while time.perf_counter() < until:
    digest = hashlib.sha256(digest).digest()
    rounds += 1
if sleep_ms > 0:
    time.sleep(sleep_ms / 1000)
sys.stdout.write(
    json.dumps(
        {
            "runtime": "python",
            "version": platform.python_version(),
            "rounds": rounds,
            "allocatedMb": len(held),
            "sleptMs": sleep_ms,
        }
    )
)
