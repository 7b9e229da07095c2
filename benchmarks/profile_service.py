"""Where the service spends its time under load: py-spy samples of the service process while
client processes send one kind of request, summed per function.

    .venv/bin/pip install py-spy          # not a project dependency
    .venv/bin/python benchmarks/profile_service.py ping   [--clients 8] [--duration 6]
    .venv/bin/python benchmarks/profile_service.py sign   # or verify, aead

Prints the share of the sampled busy time of each thread group (connection threads, acceptor) spent in
each function, inclusive and exclusive ("self"), and the request rate during the run.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_crypto
import bench_ping
from benchlib import Bench, Settings

_LINE = re.compile(r":\d+\)")
# Leaf frames that mean "waiting", not working.
_IDLE = ("select (selectors.py", "EpollSelector.select", "wait (threading.py", "_worker (concurrent")


def summarise(raw: Path, top: int) -> str:
    groups: dict[str, tuple[collections.Counter[str], collections.Counter[str], list[int]]] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1]
        group = "connection threads" if "pqparsec-conn" in thread else \
            "acceptor" if "acceptor" in thread else thread
        incl, self_, total = groups.setdefault(group, (collections.Counter(), collections.Counter(),
                                                       [0, 0]))
        n = int(count)
        body = [_LINE.sub(")", f) for f in frames[1:]]
        if not body or any(mark in body[-1] for mark in _IDLE):
            total[1] += n
            continue
        total[0] += n
        for f in set(body):
            incl[f] += n
        self_[body[-1]] += n
    out = []
    for group, (incl, self_, (busy, idle)) in groups.items():
        if not busy:
            continue
        out.append(f"== {group}: {busy} busy samples, {idle} idle")
        out.append("-- inclusive")
        out += [f"{100 * n / busy:5.1f}%  {f}" for f, n in incl.most_common(top)]
        out.append("-- self")
        out += [f"{100 * n / busy:5.1f}%  {f}" for f, n in self_.most_common(top)]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("operation", choices=["ping", "sign", "verify", "aead"])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=6.0)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        sys.exit("py-spy is not installed: .venv/bin/pip install py-spy")
    settings = Settings(duration=args.duration, rounds=1, concurrency=(args.clients,))
    with Bench(settings) as bench, tempfile.TemporaryDirectory() as tmp:
        if args.operation == "ping":
            request = bench_ping.ping_request()
        else:
            requests, unavailable = bench_crypto.service_requests(bench.service)
            if args.operation not in requests:
                sys.exit(unavailable.get(args.operation, "not available"))
            request = requests[args.operation]
        raw = Path(tmp) / "samples.txt"
        proc = subprocess.Popen(
            [spy, "record", "-p", str(bench.service.proc.pid), "-r", "500", "-d",
             str(int(args.duration)), "--format", "raw", "-o", str(raw), "--threads", "--idle",
             "--subprocesses", "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        m = bench.pool.run(args.clients, bench.service.socket_path, request, args.duration,
                           server_pid=bench.service.proc.pid)
        _, err = proc.communicate()
        if not raw.exists():
            sys.exit(f"py-spy failed: {err.decode(errors='replace')}")
        print(f"{args.operation}, {args.clients} clients: {m.rate:,.0f} req/s, server CPU "
              f"{m.server_cpu_us_per_req or 0:.0f} us/req")
        print(summarise(raw, args.top))


if __name__ == "__main__":
    main()
