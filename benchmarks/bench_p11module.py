"""ECDSA P-256 signatures per second through the PKCS#11 module beside the Python client.

The module is built for this venv (`pqparsec.p11module.builder`) and driven by a C host,
tests/p11module/p11caller.c (dlopen, C_GetFunctionList, one session per thread, C_SignInit +
C_Sign with CKM_ECDSA_SHA256); the Python client does the same operation with
`BasicClient.sign` (SHA-256 in the client, PsaSignHash). Both against one service (software
provider, Direct authenticator, default workers), one key, 1 and 4 threads. One run; the figures
move with whatever else the machine is doing.

Run alone: .venv/bin/python benchmarks/bench_p11module.py [--count N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchlib import Service, fmt_rate, machine_summary, table

from pqparsec.client import BasicClient
from pqparsec.p11module import builder
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)

ROOT = Path(__file__).resolve().parents[1]
CALLER = ROOT / "tests" / "p11module" / "p11caller.c"
APP = "bench-p11"
KEY = "bench-p11-ecdsa"


def python_rate(client: BasicClient, threads: int, count: int) -> float:
    info = client.key_info(KEY)

    def work(t: int) -> None:
        for i in range(count):
            client.sign(KEY, f"message {t}/{i}".encode(), info=info)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    start = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return threads * count / (time.perf_counter() - start)


def module_rate(caller: Path, lib: Path, endpoint: str, threads: int, count: int) -> float:
    env = {**os.environ, "PARSEC_SERVICE_ENDPOINT": endpoint, "PQPARSEC_P11_APP_NAME": APP,
           "P11_SIGN_ONLY": "1"}
    out = subprocess.run([str(caller), str(lib), "sign", KEY, str(threads), str(count)],
                         env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("signatures "))
    _, done, _, failed, _, seconds = line.split()
    if int(failed):
        raise RuntimeError(f"{failed} signatures failed through the module")
    return int(done) / float(seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300, help="signatures per thread")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pqp-bench-p11-") as tmp:
        lib = builder.build(Path(tmp) / "module")
        header = Path(tmp) / "pkcs11_types.h"
        header.write_text(builder.c_header())
        caller = Path(tmp) / "p11caller"
        subprocess.run(["gcc", "-O2", "-o", str(caller), str(CALLER), f"-I{tmp}", "-ldl",
                        "-lpthread"], check=True)
        svc = Service(os.path.join(tmp, "svc"))
        try:
            client = BasicClient(app_name=APP, endpoint=svc.endpoint)
            client.generate_key(KEY, KeyAttributes(
                KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True),
                          SignAlg(SignKind.ECDSA, ANY_HASH))))
            module_rate(caller, lib, svc.endpoint, 1, 20)  # warm-up
            python_rate(client, 1, 20)
            rows = []
            for threads in (1, 4):
                n = max(1, args.count // threads)
                py = python_rate(client, threads, n)
                mod = module_rate(caller, lib, svc.endpoint, threads, n)
                rows.append([str(threads), fmt_rate(py), fmt_rate(mod), f"{mod / py:.2f}"])
        finally:
            svc.stop()
    print(machine_summary())
    print("ECDSA P-256 signatures/s (CKM_ECDSA_SHA256 through the module in a C host; "
          "BasicClient.sign in Python)")
    print(table(["threads", "Python client", "PKCS#11 module", "module / client"], rows))


if __name__ == "__main__":
    sys.exit(main())
