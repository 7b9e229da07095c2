"""Ping round trips through the service beside a bare Unix-socket connect+answer baseline.

Both servers are measured the same way in the same run: client processes each open a new
connection per request, send a prepared 36-byte request and read until the server closes. The
ratio baseline rate / ping rate is what one Ping costs compared with the least a per-connection
asyncio server can do (target: at most 2x).

Run alone: .venv/bin/python benchmarks/bench_ping.py [--quick]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from benchlib import (
    Bench,
    Measurement,
    best,
    fmt_ms,
    fmt_opt,
    fmt_rate,
    raw_request,
    send_once,
    table,
)

TARGET = 2.0


@dataclass
class PingFigures:
    baseline: dict[int, Measurement]
    ping: dict[int, Measurement]

    def ratio(self, clients: int) -> float:
        """How many times a Ping costs a bare exchange (cost = 1 / throughput)."""
        return self.baseline[clients].rate / self.ping[clients].rate


def ping_request() -> bytes:
    from pqparsec.protocol.opcodes import Opcode

    return raw_request(int(Opcode.PING), 0, b"")


def measure(bench: Bench) -> PingFigures:
    s = bench.settings
    request = ping_request()
    status, body = send_once(bench.service.socket_path, request)
    if status != 0 or body != b"\x08\x01":
        raise RuntimeError(f"unexpected Ping answer: status {status}, body {body.hex()}")
    runs: dict[tuple[str, int], list[Measurement]] = {}
    # Interleave the two servers so that a disturbance of the machine hits both alike.
    for _ in range(s.rounds):
        for n in s.concurrency:
            runs.setdefault(("baseline", n), []).append(bench.pool.run(
                n, bench.baseline.path, request, s.duration, check_status=False,
                server_pid=bench.baseline.pid))
            runs.setdefault(("ping", n), []).append(bench.pool.run(
                n, bench.service.socket_path, request, s.duration,
                server_pid=bench.service.proc.pid))
    return PingFigures(baseline={n: best(runs[("baseline", n)]) for n in s.concurrency},
                       ping={n: best(runs[("ping", n)]) for n in s.concurrency})


def report(fig: PingFigures, bench: Bench) -> str:
    s = bench.settings
    rows = []
    for n in s.concurrency:
        for label, m in (("bare baseline", fig.baseline[n]), ("pqparsec Ping", fig.ping[n])):
            rows.append([label, str(n), fmt_rate(m.rate), fmt_ms(m.p50_ms), fmt_ms(m.p99_ms),
                         fmt_opt(m.server_cpu_us_per_req), str(m.ok), str(m.failed)])
    out = [
        "Ping round trips (new connection per request; raw-socket clients, one process each; "
        f"{s.duration:g} s per cell, best of {s.rounds} interleaved round(s))",
        table(["server", "clients", "req/s", "p50 ms", "p99 ms", "server CPU us/req", "requests",
               "errors"], rows),
        "",
    ]
    ratio_rows = []
    for n in s.concurrency:
        r = fig.ratio(n)
        lat = fig.ping[n].p50_ms / fig.baseline[n].p50_ms
        cpu_b = fig.baseline[n].server_cpu_us_per_req
        cpu_p = fig.ping[n].server_cpu_us_per_req
        cpu = fmt_opt(cpu_p / cpu_b if cpu_p and cpu_b else None, ".2f")
        ratio_rows.append([str(n), f"{r:.2f}x", f"{lat:.2f}x", f"{cpu}x",
                           "met" if r <= TARGET else "NOT met"])
    out += [
        f"Ping cost relative to the bare baseline (target: at most {TARGET:g}x)",
        table(["clients", "throughput ratio (baseline/ping)", "p50 latency ratio",
               "server CPU ratio", "target"], ratio_rows),
        "(target judged on throughput; the server CPU ratio, the server's own cost per request, "
        "is the steadiest of the three when other work shares the machine)",
    ]
    return "\n".join(out)


def main() -> None:
    from benchlib import FULL, QUICK, machine_summary

    settings = QUICK if "--quick" in sys.argv[1:] else FULL
    print(machine_summary())
    with Bench(settings) as bench:
        print()
        print(report(measure(bench), bench))


if __name__ == "__main__":
    main()
