#!/usr/bin/env python3
"""Loop-pause probe of bench/scale_bench.sh: GET /healthz about every millisecond on
one keep-alive connection until the file STOP exists; prints the worst latency (ms)
and the number of probes. usage: scale_probe.py PORT STOP_FILE"""
import http.client
import os
import sys
import time

port, stop = int(sys.argv[1]), sys.argv[2]
worst, count, conn = 0.0, 0, None
while not os.path.exists(stop):
    start = time.perf_counter()
    try:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        worst = max(worst, time.perf_counter() - start)
        count += 1
    except (OSError, http.client.HTTPException):
        conn = None  # not listening yet, or restarting: not a pause of the loop
        time.sleep(0.01)
        continue
    rest = 0.001 - (time.perf_counter() - start)
    if rest > 0:
        time.sleep(rest)
print(f"{worst * 1000:.1f} {count}")
