"""Start-up cost of `pqparsec serve`: on its embedded default (software provider, SQLite key
store, Unix peer credentials, socket in ./.pqparsec of a fresh directory, `workers` = CPUs), and
on a minimal config (the same, Direct authenticator) with `workers = 1` and `workers = <CPUs>`.

    .venv/bin/python benchmarks/bench_startup.py            # 7 starts of each
    .venv/bin/python benchmarks/bench_startup.py --runs 3
    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python benchmarks/bench_startup.py
                                                         # the same figures for another revision

Prints, as medians over the starts: the time the interpreter spends importing the service's
modules (`python -c "import ..."` less `python -c pass`); for each start, the time from spawning
`pqparsec serve` (with NOTIFY_SOCKET set to a datagram socket bound here, as systemd does) to the
READY=1 notification (sent once every worker is up; target under 1 s) and to its first answered
ping, the resident set size (VmRSS) and PSS summed over the service's processes once it answers
and after a second idle, and which optional native libraries its processes have mapped (TPM,
PKCS#11, pycryptodome, pqcrypto, slh-dsa). Each start uses a new directory, so it includes
creating the key-encryption key and the SQLite store. A revision without `workers` refuses the
minimal configs: those rows then say so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import CONFIG, cpu_count, process_tree, toml_table, tree_memory_kib

from pqparsec.client import BasicClient

# What `python -m pqparsec serve` imports before it reads its config (the entry module, then the
# composition root and the software provider).
SERVICE_IMPORTS = ("import pqparsec.__main__, pqparsec.service.app, "
                   "pqparsec.service.providers.software")
# Shared objects that tell which optional back-end libraries a process has loaded.
NATIVE = {"tpm2-pytss / libtss2": ("tss2",), "python-pkcs11": ("pkcs11/_pkcs11",),
          "pycryptodome": ("/Crypto/",), "pqcrypto": ("pqcrypto.abi3",), "slh-dsa": ("slhdsa",)}


def python_time(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


READY_TARGET = 1.0  # seconds from spawn to READY=1
STOP_WAIT = 15.0  # seconds given to a SIGTERM before the service's processes are killed


def mapped_libraries(pid: int) -> list[str]:
    maps = ""
    for p in process_tree(pid):
        try:
            maps += Path(f"/proc/{p}/maps").read_text()
        except OSError:
            pass
    return [name for name, needles in NATIVE.items() if any(n in maps for n in needles)]


@dataclass
class Start:
    ready: float  # spawn to READY=1 (seconds)
    ping: float  # spawn to the first answered ping
    processes: int
    rss_ping: int  # KiB, summed over the processes
    rss_idle: int
    pss_idle: int
    libraries: list[str]
    stop: float  # SIGTERM to exit (capped at STOP_WAIT)


def minimal_config(directory: str, workers: int) -> str:
    path = os.path.join(directory, "config.toml")
    Path(path).write_text(CONFIG.format(
        core=toml_table({"workers": workers}) + "\n",
        socket=os.path.join(directory, "parsec.sock"),
        db=os.path.join(directory, "kim.sqlite3"),
        provider=toml_table({"provider_type": "MbedCrypto"})))
    return path


def one_start(workers: int | None) -> Start:
    """`workers` None: the embedded default; else a minimal config with that many workers."""
    tmp = tempfile.mkdtemp(prefix="pqp-bench-start-")
    proc = None
    tree: list[int] = []
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        notify.bind(os.path.join(tmp, "notify.sock"))
        notify.setblocking(False)
        cmd = [sys.executable, "-m", "pqparsec", "serve"]
        if workers is None:
            sock = os.path.join(tmp, ".pqparsec", "parsec.sock")
        else:
            cmd += ["--config", minimal_config(tmp, workers)]
            sock = os.path.join(tmp, "parsec.sock")
        env = {**os.environ, "NOTIFY_SOCKET": os.path.join(tmp, "notify.sock")}
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ready = ping = None
        while ready is None or ping is None:
            now = time.perf_counter()
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
                raise RuntimeError(f"pqparsec serve exited with {proc.returncode}: {err[-300:]}")
            if now - t0 > 60:
                raise RuntimeError("pqparsec serve was not ready within 60 s")
            try:
                while ready is None:
                    if b"READY=1" in notify.recv(4096).split(b"\n"):
                        ready = now - t0
            except BlockingIOError:
                pass
            if ping is None and os.path.exists(sock):
                try:
                    if BasicClient(endpoint=f"unix:{sock}", timeout=1.0).ping() == (1, 0):
                        ping = time.perf_counter() - t0
                except Exception:
                    pass
            time.sleep(0.002)
        processes, rss_ping, _ = tree_memory_kib(proc.pid)
        time.sleep(1.0)
        _, rss_idle, pss_idle = tree_memory_kib(proc.pid)
        libraries = mapped_libraries(proc.pid)
        tree = process_tree(proc.pid)
        t1 = time.perf_counter()
        proc.terminate()
        try:
            proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            pass
        stop = time.perf_counter() - t1
        return Start(ready, ping, processes, rss_ping, rss_idle, pss_idle, libraries, stop)
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(STOP_WAIT)
                except subprocess.TimeoutExpired:
                    pass
            for pid in tree:  # whatever of the service outlived its stop (ours to end)
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            proc.wait(5)
            if proc.stderr is not None:
                proc.stderr.close()
        notify.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    n = cpu_count()
    bare = statistics.median(python_time("pass") for _ in range(args.runs))
    imports = statistics.median(python_time(SERVICE_IMPORTS) for _ in range(args.runs))
    kinds: dict[str, int | None] = {"embedded default (its default workers)": None,
                                    "minimal config, workers = 1": 1}
    if n > 1:
        kinds[f"minimal config, workers = {n}"] = n
    results: dict[str, list[Start] | str] = {}
    for _ in range(args.runs):  # interleaved, so a disturbance of the machine hits all alike
        for label, workers in kinds.items():
            got = results.setdefault(label, [])
            if isinstance(got, str):
                continue
            try:
                got.append(one_start(workers))
            except RuntimeError as exc:
                if workers is None:
                    raise
                results[label] = str(exc)  # e.g. a revision that does not know `workers`
    print(f"pqparsec serve start-up, median of {args.runs} starts of each (max in brackets)")
    print(f"  import of the service's modules   {1000 * (imports - bare):7.0f} ms "
          f"(interpreter alone {1000 * bare:.0f} ms)")

    def ms(xs: list[float]) -> str:
        return f"{1000 * statistics.median(xs):7.0f} ms ({1000 * max(xs):.0f})"

    for label, got in results.items():
        print(f"  {label}:")
        if isinstance(got, str):
            print(f"    not measured: {got}")
            continue
        ready = [s.ready for s in got]
        verdict = "met" if statistics.median(ready) < READY_TARGET else "NOT met"
        print(f"    spawn to READY=1                {ms(ready)}  (target: median under "
              f"{READY_TARGET:g} s: {verdict})")
        print(f"    spawn to first answered ping    {ms([s.ping for s in got])}")
        print(f"    processes                       {statistics.median(s.processes for s in got):7.0f}")
        print(f"    RSS at first ping (sum)         "
              f"{statistics.median(s.rss_ping for s in got) / 1024:7.1f} MiB")
        print(f"    RSS after 1 s idle (sum)        "
              f"{statistics.median(s.rss_idle for s in got) / 1024:7.1f} MiB")
        print(f"    PSS after 1 s idle (sum)        "
              f"{statistics.median(s.pss_idle for s in got) / 1024:7.1f} MiB")
        print(f"    SIGTERM to exit                 {ms([s.stop for s in got])}")
        print(f"    optional native libraries mapped  {', '.join(got[-1].libraries) or 'none'}")


if __name__ == "__main__":
    main()
