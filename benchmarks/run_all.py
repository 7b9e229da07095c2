"""`make bench`: every benchmark figure, measured in one run.

    .venv/bin/python benchmarks/run_all.py           # full run (about three minutes)
    .venv/bin/python benchmarks/run_all.py --quick   # shorter cells, one round (about a minute)
    .venv/bin/python benchmarks/run_all.py --baseline-rev HEAD~3   # ping against another commit
    .venv/bin/python benchmarks/run_all.py --baseline-rev ''       # no revision comparison

Started here, each on a socket in a temp dir, and stopped at the end: the service (`pqparsec
serve`, Direct authenticator, software provider, log_level "error") twice, with `workers = 1`
and `workers = <CPUs>`; the service of the baseline revision (its own source, extracted with
`git archive`, run by this venv's interpreter with PYTHONPATH); a bare asyncio baseline server,
a zero-work C server and a sign-only Python server. The key-store and hardware groups start
services of their own.
"""

from __future__ import annotations

import argparse
import time

import bench_crypto
import bench_hw
import bench_keys
import bench_ping
from benchlib import FULL, QUICK, Bench, Settings, cpu_count, machine_summary

# The last commit before issue 13's work (worker processes, fair share per client): what
# "at least 1.5x today's ping rate" is measured against.
BASELINE_REV = "56ff33a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter cells, one round")
    parser.add_argument("--duration", type=float, help="seconds per measured cell")
    parser.add_argument("--baseline-rev", default=BASELINE_REV,
                        help="git revision whose service the ping rows are compared with "
                             f"(default {BASELINE_REV}; '' for none)")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    if args.duration:
        settings = Settings(duration=args.duration, rounds=settings.rounds,
                            concurrency=settings.concurrency)
    t0 = time.monotonic()
    print("pqparsec benchmarks")
    print(machine_summary())
    with Bench(settings, baseline_rev=args.baseline_rev or None) as bench:
        pids = ", ".join(f"workers={w}: pid {s.pid} ({s.processes} processes)"
                         for w, s in bench.services.items())
        print(f"services: pqparsec serve ({pids}), thread_pool_size default (= CPUs), Direct "
              "authenticator, log_level error; clients and servers share the CPUs")
        if bench.rev_service is not None:
            print(f"baseline revision: {bench.rev[:12]}, pid {bench.rev_service.pid}, run from "
                  f"{bench.rev_service.src}")
        elif bench.rev_why_not:
            print(f"baseline revision: not running: {bench.rev_why_not}")
        print(f"(workers = {cpu_count()} is the number of CPUs this process may use)")
        print(flush=True)
        ping = bench_ping.measure(bench)
        print(bench_ping.report(ping, bench), flush=True)
        print()
        top = max(settings.concurrency)
        print(bench_crypto.report(bench_crypto.measure(bench), bench, ping.baseline[top],
                                  bench_crypto.measure_ceiling(bench)), flush=True)
        print()
        try:
            print(bench_keys.report(bench_keys.measure(bench), bench), flush=True)
        except RuntimeError as exc:  # the other groups' figures are still worth having
            print(f"Key store size: not measured: {str(exc).strip()[:2000]}", flush=True)
        print()
        print(bench_hw.report(bench_hw.measure(bench), bench), flush=True)
    print(f"\n(total {time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
