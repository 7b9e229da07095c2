"""Ping round trips through the service beside a bare Unix-socket connect+answer baseline and,
when asked, beside the service of another revision (the one before the worker processes).

Every server is measured the same way in the same run: client processes each open a new
connection per request, send a prepared 36-byte request and read until the server closes. The
service runs twice, with `workers = 1` and `workers = <CPUs>`. Ratios:
- baseline rate / ping rate: what one Ping costs compared with the least a per-connection
  asyncio server can do (target: at most 2x);
- ping rate / the revision's ping rate, 8 clients (issue 13's target: at least 1.5x).

Run alone: .venv/bin/python benchmarks/bench_ping.py [--quick] [--baseline-rev REV]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from benchlib import (
    Bench,
    Measurement,
    Service,
    best,
    div,
    fmt_ms,
    fmt_opt,
    fmt_rate,
    raw_request,
    send_once,
    table,
)

TARGET = 2.0  # ping cost at most this many times the bare baseline's
REVISION_TARGET = 1.5  # ping rate at the most clients at least this many times the revision's


@dataclass
class PingFigures:
    baseline: dict[int, Measurement]
    ping: dict[int, dict[int, Measurement]]  # workers -> clients -> measurement
    revision: dict[int, Measurement]  # clients -> measurement; empty when not measured

    def ratio(self, clients: int, workers: int | None = None) -> float:
        """How many times a Ping costs a bare exchange (cost = 1 / throughput)."""
        w = max(self.ping) if workers is None else workers
        return div(self.baseline[clients].rate, self.ping[w][clients].rate)


def ping_request() -> bytes:
    from pqparsec.protocol.opcodes import Opcode

    return raw_request(int(Opcode.PING), 0, b"")


def _check(service: Service, request: bytes) -> None:
    status, body = send_once(service.socket_path, request)
    if status != 0 or body != b"\x08\x01":
        raise RuntimeError(f"unexpected Ping answer: status {status}, body {body.hex()}")


def measure(bench: Bench) -> PingFigures:
    s = bench.settings
    request = ping_request()
    targets: dict[str, tuple[str, int]] = {"baseline": (bench.baseline.path, bench.baseline.pid)}
    for w, service in bench.services.items():
        _check(service, request)
        targets[f"w{w}"] = (service.socket_path, service.pid)
    if bench.rev_service is not None:
        _check(bench.rev_service, request)
        targets["revision"] = (bench.rev_service.socket_path, bench.rev_service.pid)
    runs: dict[tuple[str, int], list[Measurement]] = {}
    # Interleave the servers so that a disturbance of the machine hits all alike.
    for _ in range(s.rounds):
        for n in s.concurrency:
            for name, (path, pid) in targets.items():
                runs.setdefault((name, n), []).append(bench.pool.run(
                    n, path, request, s.duration, check_status=name != "baseline",
                    server_pid=pid))
    return PingFigures(
        baseline={n: best(runs[("baseline", n)]) for n in s.concurrency},
        ping={w: {n: best(runs[(f"w{w}", n)]) for n in s.concurrency} for w in bench.services},
        revision={n: best(runs[("revision", n)]) for n in s.concurrency}
        if "revision" in targets else {})


def _cpu_ratio(a: Measurement, b: Measurement) -> str:
    ca, cb = a.server_cpu_us_per_req, b.server_cpu_us_per_req
    return fmt_opt(ca / cb if ca and cb else None, ".2f") + "x"


def report(fig: PingFigures, bench: Bench) -> str:
    s = bench.settings
    rev = bench.rev[:7]
    servers: list[tuple[str, dict[int, Measurement]]] = [("bare baseline", fig.baseline)]
    servers += [(f"pqparsec Ping, workers={w}", fig.ping[w]) for w in sorted(fig.ping)]
    if fig.revision:
        servers.append((f"pqparsec Ping at {rev} (one process)", fig.revision))
    rows = []
    for n in s.concurrency:
        for label, ms in servers:
            m = ms[n]
            rows.append([label, str(n), fmt_rate(m.rate), fmt_ms(m.p50_ms), fmt_ms(m.p99_ms),
                         fmt_opt(m.server_cpu_us_per_req), str(m.ok), str(m.failed)])
    out = [
        "Ping round trips (new connection per request; raw-socket clients, one process each; "
        f"{s.duration:g} s per cell, best of {s.rounds} interleaved round(s); server CPU = the "
        "service's supervisor + workers)",
        table(["server", "clients", "req/s", "p50 ms", "p99 ms", "server CPU us/req", "requests",
               "errors"], rows),
        "",
    ]
    ratio_rows = []
    for w in sorted(fig.ping):
        for n in s.concurrency:
            p, b = fig.ping[w][n], fig.baseline[n]
            r = fig.ratio(n, w)
            ratio_rows.append([str(w), str(n), f"{r:.2f}x", f"{p.p50_ms / b.p50_ms:.2f}x",
                               _cpu_ratio(p, b), "met" if r <= TARGET else "NOT met"])
    out += [
        f"Ping cost relative to the bare baseline (target: at most {TARGET:g}x)",
        table(["workers", "clients", "throughput ratio (baseline/ping)", "p50 latency ratio",
               "server CPU ratio", "target"], ratio_rows),
        "(target judged on throughput; the server CPU ratio, the server's own cost per request, "
        "is the steadiest of the three when other work shares the machine)",
    ]
    top = max(s.concurrency)
    if fig.revision:
        rev_rows = []
        for w in sorted(fig.ping):
            for n in s.concurrency:
                p, old = fig.ping[w][n], fig.revision[n]
                ratio = div(p.rate, old.rate)
                verdict = ("met" if ratio >= REVISION_TARGET else "NOT met") if n == top else ""
                rev_rows.append([str(w), str(n), f"{ratio:.2f}x", f"{old.p50_ms / p.p50_ms:.2f}x",
                                 _cpu_ratio(p, old), verdict])
        out += [
            "",
            f"Ping now against revision {rev} in the same run (target: at {top} clients, at least "
            f"{REVISION_TARGET:g}x its rate)",
            table(["workers", "clients", f"throughput ratio (now/{rev})",
                   f"p50 latency ratio ({rev}/now)", f"server CPU ratio (now/{rev})", "target"],
                  rev_rows),
        ]
    elif bench.rev_why_not:
        out += ["", f"Ping against another revision: not measured: {bench.rev_why_not}"]
    return "\n".join(out)


def main() -> None:
    from benchlib import FULL, QUICK, machine_summary

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter cells, one round")
    parser.add_argument("--baseline-rev", help="also measure the service of this git revision")
    args = parser.parse_args()
    print(machine_summary())
    with Bench(QUICK if args.quick else FULL, baseline_rev=args.baseline_rev) as bench:
        print()
        print(report(measure(bench), bench))


if __name__ == "__main__":
    main()
