"""Soak: the ceiling test's users held at a fixed count for a long time — does memory or latency
creep?

    .venv/bin/python bench/soak.py --users 500 --minutes 30          # the issue's soak
    .venv/bin/python bench/soak.py --users 100 --minutes 3 --every 1 # a quick look

Same topology, seeding and user model as ``bench/loadgen.py`` (its docstring explains them).
After every user is connected, a first one-minute window is the *start* figure; then a window
every ``--every`` minutes until ``--minutes`` have passed, the last one being the *end* figure.
Each window reports HTTP and delivery latency, errors, CPU, and the RSS of every server
process (each daphne process, the worker, the indexer, the balancer, Redis, and this database's
PostgreSQL backends). The summary compares start and end. Nothing asserts: it prints, and
writes JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import HEADER, NCPU, LoadRun, StepResult, add_common_arguments, log, row


def rss_line(step: StepResult) -> str:
    return "  RSS MiB: " + ", ".join(f"{name} {mib:.0f}" for name, mib in step.rss_mib.items())


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    windows: list[dict[str, Any]] = []
    started = time.time()
    async with LoadRun(args) as run:
        ramp_s = await run.grow(args.users)
        log(f"{args.users} users connected in {ramp_s:.0f} s; soaking {args.minutes:g} min")
        began = time.monotonic()
        end = began + args.minutes * 60
        length = 60.0  # the start window: one minute once everyone is connected
        log(HEADER)
        while True:
            step = await run.measure(length, ramp_s)
            elapsed_min = (time.monotonic() - began) / 60
            windows.append({"minute": round(elapsed_min, 1), **asdict(step)})
            log(f"[{elapsed_min:5.1f} min] " + row(step))
            log(rss_line(step))
            left = end - time.monotonic()
            if left < 30:
                break
            length = min(args.every * 60, left)
    first, last = windows[0], windows[-1]
    growth = {
        name: round(last["rss_mib"].get(name, 0.0) - mib, 1)
        for name, mib in first["rss_mib"].items()
        if not name.startswith("postgres")
    }
    return {
        "users": args.users,
        "minutes": args.minutes,
        "cores": NCPU,
        "procs": args.procs,
        "clients": args.clients,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "ended_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rss_growth_mib": growth,
        "start": {k: first[k] for k in ("http_avg_ms", "http_p99_ms", "delivery_p50_ms", "delivery_p99_ms")},
        "end": {k: last[k] for k in ("http_avg_ms", "http_p99_ms", "delivery_p50_ms", "delivery_p99_ms")},
        "errors": sum(w["errors"] for w in windows),
        "operations": sum(w["operations"] for w in windows),
        "windows": windows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--users", type=int, required=True, help="concurrent users (half the measured ceiling)")
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to hold them (default 30)")
    parser.add_argument("--every", type=float, default=5.0, help="minutes per reported window (default 5)")
    args = parser.parse_args(argv)
    result = asyncio.run(soak(args))
    print(HEADER)
    for window in result["windows"]:
        fields = {k: v for k, v in window.items() if k != "minute"}
        print(f"[{window['minute']:5.1f} min] " + row(StepResult(**fields)))
    print(f"RSS growth start → end (MiB): {result['rss_growth_mib']}")
    print(f"latency start: {result['start']}")
    print(f"latency end:   {result['end']}")
    print(f"errors: {result['errors']} of {result['operations']} operations")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
