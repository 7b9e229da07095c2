"""Start-up cost of `pqparsec serve` on its embedded default (software provider, SQLite key store,
Unix peer credentials, socket in ./.pqparsec of a fresh directory).

    .venv/bin/python benchmarks/bench_startup.py            # 7 starts
    .venv/bin/python benchmarks/bench_startup.py --runs 3
    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python benchmarks/bench_startup.py
                                                         # the same figures for another revision

Prints, as medians over the starts: the time the interpreter spends importing the service's
modules (`python -c "import ..."` less `python -c pass`), the time from spawning `pqparsec serve`
to its first answered ping, the resident set size (VmRSS) once it answers and after a second
idle, and which optional native libraries the running service has mapped (TPM, PKCS#11,
pycryptodome, pqcrypto, slh-dsa). Each start uses a new directory, so it includes creating the
key-encryption key and the SQLite store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def mapped_libraries(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name, needles in NATIVE.items() if any(n in maps for n in needles)]


def one_start() -> tuple[float, int, int, list[str]]:
    tmp = tempfile.mkdtemp(prefix="pqp-bench-start-")
    proc = None
    try:
        sock = os.path.join(tmp, ".pqparsec", "parsec.sock")
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "pqparsec", "serve"], cwd=tmp,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"pqparsec serve exited with {proc.returncode}")
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("pqparsec serve did not answer within 60 s")
            if os.path.exists(sock):
                try:
                    if BasicClient(endpoint=f"unix:{sock}", timeout=1.0).ping() == (1, 0):
                        break
                except Exception:
                    pass
            time.sleep(0.005)
        ready = time.perf_counter() - t0
        rss_ready = rss_kib(proc.pid)
        time.sleep(1.0)
        return ready, rss_ready, rss_kib(proc.pid), mapped_libraries(proc.pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    bare = statistics.median(python_time("pass") for _ in range(args.runs))
    imports = statistics.median(python_time(SERVICE_IMPORTS) for _ in range(args.runs))
    starts = [one_start() for _ in range(args.runs)]
    print(f"pqparsec serve start-up, embedded default, median of {args.runs}")
    print(f"  import of the service's modules   {1000 * (imports - bare):7.0f} ms "
          f"(interpreter alone {1000 * bare:.0f} ms)")
    print(f"  spawn to first answered ping      {1000 * statistics.median(s[0] for s in starts):7.0f} ms")
    print(f"  RSS at first ping                 {statistics.median(s[1] for s in starts) / 1024:7.1f} MiB")
    print(f"  RSS after 1 s idle                {statistics.median(s[2] for s in starts) / 1024:7.1f} MiB")
    print(f"  optional native libraries mapped  {', '.join(starts[-1][3]) or 'none'}")


if __name__ == "__main__":
    main()
