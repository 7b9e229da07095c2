"""`make bench`: every benchmark figure, measured in one run against one service.

    .venv/bin/python benchmarks/run_all.py           # full run (about a minute)
    .venv/bin/python benchmarks/run_all.py --quick   # shorter cells, one round

The service (`pqparsec serve`, Direct authenticator, software provider, log_level "error") and a
bare asyncio baseline server are started here, each on a socket in a temp dir, and stopped at
the end.
"""

from __future__ import annotations

import argparse
import time

import bench_crypto
import bench_hw
import bench_ping
from benchlib import FULL, QUICK, Bench, Settings, machine_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter cells, one round")
    parser.add_argument("--duration", type=float, help="seconds per measured cell")
    args = parser.parse_args()
    settings = QUICK if args.quick else FULL
    if args.duration:
        settings = Settings(duration=args.duration, rounds=settings.rounds,
                            concurrency=settings.concurrency)
    t0 = time.monotonic()
    print("pqparsec benchmarks")
    print(machine_summary())
    with Bench(settings) as bench:
        print(f"service: pqparsec serve, pid {bench.service.proc.pid}, thread_pool_size default "
              "(= CPUs), Direct authenticator, log_level error; clients and servers share the CPUs")
        print(flush=True)
        ping = bench_ping.measure(bench)
        print(bench_ping.report(ping, bench), flush=True)
        print()
        top = max(settings.concurrency)
        print(bench_crypto.report(bench_crypto.measure(bench), bench, ping.baseline[top],
                                  bench_crypto.measure_ceiling(bench)), flush=True)
        print()
        print(bench_hw.report(bench_hw.measure(bench), bench), flush=True)
    print(f"\n(total {time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
