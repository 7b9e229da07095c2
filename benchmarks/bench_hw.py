"""ECDSA P-256 sign through the hardware-backed providers beside the same back-end in-process.

- PKCS#11: a private SoftHSM2 token (SOFTHSM2_CONF in a temp dir); the service runs the Pkcs11
  provider on it, the in-process figure is python-pkcs11 on the same token type (CKM_ECDSA on a
  SHA-256 digest, one session, key already on the token).
- TPM: a swtpm on a free localhost port; the service runs the Tpm provider on it, the
  in-process figure is tpm2-pytss (a P-256 signing key under an owner-hierarchy primary,
  TPM2_Sign of a SHA-256 digest).

Each group starts its own `pqparsec serve` (Direct authenticator), once with `workers = 1` and
once with `workers = <CPUs>` (one after the other, on the same back-end), and is skipped, with the
reason printed, when its back-end is missing. With several workers, PKCS#11 sessions are per
worker, while the TPM has one owner process (swtpm serves one connection at a time): that row
measures TPM requests arriving at any worker. The in-process figure is measured first, and its
connection to the back-end closed, before the service opens its own, and again after the services
have stopped (the better is kept). The ratios are service rate
/ in-process rate. Last, with the most workers and clients, the key-creation rate (PsaGenerateKey,
ECC P-256, a new name per request).

Run alone: .venv/bin/python benchmarks/bench_hw.py [--quick]
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench_crypto import _in_process_rate, _status_name
from bench_keys import generate_request
from benchlib import (
    Bench,
    Measurement,
    Service,
    div,
    fmt_ms,
    fmt_opt,
    fmt_rate,
    raw_request,
    send_once,
    table,
)

APP = "bench"
DIGEST = hashlib.sha256(b"pqparsec benchmark").digest()
SOFTHSM_LIBS = ("/usr/lib/softhsm/libsofthsm2.so",
                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/local/lib/softhsm/libsofthsm2.so")
USER_PIN = "1234"
SO_PIN = "5678"


@dataclass
class HwRow:
    name: str
    in_process_label: str
    in_process: float = 0.0  # ops/s
    service: dict[int, dict[int, Measurement]] = field(default_factory=dict)  # workers, clients
    create: Measurement | None = None  # PsaGenerateKey, most workers and clients
    failed: dict[int, str] = field(default_factory=dict)  # workers -> why not measured
    skipped: str | None = None  # why the group was not measured


# ------------------------------------------------------------------------------------------------
# Back-ends


def pkcs11_missing() -> str | None:
    if shutil.which("softhsm2-util") is None or not any(map(os.path.exists, SOFTHSM_LIBS)):
        return "SoftHSM2 is not installed (apt-get install softhsm2)"
    try:
        import pkcs11  # noqa: F401
    except ImportError as exc:
        return f"python-pkcs11 is not usable ({exc})"
    return None


def tpm_missing() -> str | None:
    if shutil.which("swtpm") is None:
        return "swtpm is not installed (apt-get install swtpm swtpm-tools)"
    try:
        import tpm2_pytss  # noqa: F401
    except ImportError as exc:
        return f"tpm2-pytss is not usable ({exc})"
    return None


@contextmanager
def softhsm_token(directory: str) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """A private SoftHSM2 token: yields the [[provider]] table and the service's environment."""
    lib = next(p for p in SOFTHSM_LIBS if os.path.exists(p))
    tokens = os.path.join(directory, "softhsm-tokens")
    os.makedirs(tokens, exist_ok=True)
    conf = os.path.join(directory, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {"SOFTHSM2_CONF": conf}
    run_env = {**os.environ, **env}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "pqp-bench",
                    "--so-pin", SO_PIN, "--pin", USER_PIN], check=True, capture_output=True,
                   env=run_env)
    out = subprocess.run(["softhsm2-util", "--show-slots"], check=True, capture_output=True,
                         text=True, env=run_env).stdout
    serial = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Serial number:"):
            serial = line.split(":", 1)[1].strip()
        elif line.startswith("Label:") and line.split(":", 1)[1].strip() == "pqp-bench":
            break
    if not serial:
        raise RuntimeError(f"SoftHSM2 token not found:\n{out}")
    os.environ["SOFTHSM2_CONF"] = conf  # for python-pkcs11 in this process (only token we use)
    yield ({"provider_type": "Pkcs11", "library_path": lib, "serial_number": serial,
            "user_pin": USER_PIN}, env)


def pkcs11_in_process(table_: dict[str, Any], duration: float) -> float:
    """python-pkcs11 in this process: CKM_ECDSA over the SHA-256 digest with a token P-256 key."""
    import pkcs11
    from pkcs11 import KeyType, Mechanism
    from pkcs11.util.ec import encode_named_curve_parameters

    lib = pkcs11.lib(table_["library_path"])
    token = next(lib.get_tokens(token_serial=table_["serial_number"].encode()))
    with token.open(rw=True, user_pin=USER_PIN) as session:
        params = session.create_domain_parameters(
            KeyType.EC, {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True)
        _, priv = params.generate_keypair(store=False, label="bench-inproc")
        # python-pkcs11's stubs put sign() on a mix-in that PrivateKey's annotation does not name
        return _in_process_rate(lambda: priv.sign(DIGEST, mechanism=Mechanism.ECDSA),  # type: ignore[attr-defined]
                                duration)


def _free_port_pair() -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free TCP port pair for swtpm")


@contextmanager
def swtpm(directory: str) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
    """A swtpm on a free port: yields the [[provider]] table and (no) extra environment."""
    state = os.path.join(directory, "swtpm-state")
    os.makedirs(state, exist_ok=True)
    port = _free_port_pair()
    with open(os.path.join(directory, "swtpm.log"), "ab") as log:
        proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2",
             "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
             "--tpmstate", f"dir={state}", "--flags", "not-need-init,startup-clear"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"swtpm exited with {proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"swtpm did not open port {port}") from None
                time.sleep(0.02)
        yield ({"provider_type": "Tpm", "tcti": f"swtpm:host=127.0.0.1,port={port}",
                "owner_hierarchy_auth": ""}, {})
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def tpm_in_process(table_: dict[str, Any], duration: float) -> float:
    """tpm2-pytss in this process: TPM2_Sign (ECDSA-SHA256) of a digest with a loaded P-256 key
    under an owner-hierarchy primary. The ESAPI context is closed before returning."""
    from tpm2_pytss import (
        ESAPI,
        TPM2B_DIGEST,
        TPM2B_PUBLIC,
        TPM2B_SENSITIVE_CREATE,
        TPMT_SIG_SCHEME,
        TPMT_TK_HASHCHECK,
    )
    from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_RH, TPM2_ST

    from pqparsec.service.providers.tpm.objects import storage_key_template

    ectx = ESAPI(table_["tcti"])
    try:
        primary, *_ = ectx.create_primary(TPM2B_SENSITIVE_CREATE(), storage_key_template(),
                                          ESYS_TR.OWNER)
        template = TPM2B_PUBLIC.parse(
            "ecc256:ecdsa-sha256",
            objectAttributes="userwithauth|sign|fixedtpm|fixedparent|sensitivedataorigin")
        priv, pub, *_ = ectx.create(primary, TPM2B_SENSITIVE_CREATE(), template)
        key = ectx.load(primary, priv, pub)
        scheme = TPMT_SIG_SCHEME(scheme=TPM2_ALG.ECDSA)
        scheme.details.any.hashAlg = TPM2_ALG.SHA256
        ticket = TPMT_TK_HASHCHECK(tag=TPM2_ST.HASHCHECK, hierarchy=TPM2_RH.NULL)
        digest = TPM2B_DIGEST(DIGEST)
        rate = _in_process_rate(lambda: ectx.sign(key, digest, scheme, ticket), duration)
        ectx.flush_context(key)
        ectx.flush_context(primary)
        return rate
    finally:
        ectx.close()


# ------------------------------------------------------------------------------------------------
# Measurement


@dataclass(frozen=True)
class Group:
    name: str
    in_process_label: str
    provider_id: int
    missing: Callable[[], str | None]
    backend: Callable[[str], Any]  # context manager: yields (provider table, env)
    in_process: Callable[[dict[str, Any], float], float]


GROUPS = (
    Group("ECDSA P-256 sign via PKCS#11 (SoftHSM2)", "python-pkcs11", 2, pkcs11_missing,
          softhsm_token, pkcs11_in_process),
    Group("ECDSA P-256 sign via TPM (swtpm)", "tpm2-pytss", 3, tpm_missing, swtpm,
          tpm_in_process),
)


def _sign_request(service: Service, provider_id: int) -> bytes:
    from pqparsec.client import BasicClient
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import AuthType, ProviderId
    from pqparsec.protocol.opcodes import Opcode
    from pqparsec.protocol.psa import (
        EccFamily,
        Hash,
        KeyAttributes,
        KeyPolicy,
        KeyType,
        SignAlg,
        SignKind,
        UsageFlags,
    )

    client = BasicClient(app_name=APP, endpoint=service.endpoint, timeout=30,
                         provider=ProviderId(provider_id), auth_type=AuthType.DIRECT)
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    client.generate_key("ecc-p256", KeyAttributes(
        KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
        KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True), alg)))
    req = raw_request(int(Opcode.PSA_SIGN_HASH), provider_id,
                      ops.encode_request(Opcode.PSA_SIGN_HASH,
                                         ops.PsaSignHashRequest("ecc-p256", alg, DIGEST)),
                      int(AuthType.DIRECT), APP.encode())
    status, _ = send_once(service.socket_path, req)
    if status != 0:
        raise RuntimeError(f"PsaSignHash failed: {_status_name(status)}")
    return req


def measure_group(bench: Bench, group: Group) -> HwRow:
    row = HwRow(group.name, group.in_process_label)
    reason = group.missing()
    if reason:
        row.skipped = reason
        return row
    s = bench.settings
    directory = os.path.join(bench.dir, f"hw-{group.provider_id}")
    os.makedirs(directory, exist_ok=True)
    try:
        with group.backend(directory) as (provider, env):
            row.in_process = group.in_process(provider, s.duration)
            for w in bench.services:
                service = None
                try:
                    service = Service(os.path.join(directory, f"workers-{w}"), provider=provider,
                                      env=env, workers=w)
                    request = _sign_request(service, group.provider_id)
                    row.service[w] = {n: bench.pool.run(n, service.socket_path, request,
                                                        s.duration, server_pid=service.pid)
                                      for n in s.concurrency}
                    if w == max(bench.services):
                        row.create = bench.pool.run(
                            max(s.concurrency), service.socket_path,
                            generate_request(group.provider_id), s.duration,
                            server_pid=service.pid, unique_names=True)
                except Exception as exc:  # one service failing leaves the other's figures
                    row.failed[w] = _why(exc, service)
                finally:
                    if service is not None:
                        service.stop()
            # Again once the services have stopped (the back-end is free again): the better of
            # the two, as other work on the machine only ever lowers it.
            row.in_process = max(row.in_process, group.in_process(provider, s.duration))
    except Exception as exc:  # a broken back-end skips its group, not the whole run
        row.skipped = f"failed: {_why(exc, None)}"
    return row


def _why(exc: Exception, service: Service | None) -> str:
    """One line on a failure, with the service's last log line when there is one."""
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    last = [ln for ln in (service.log() if service else "").splitlines() if ln.strip()]
    return f"{text} (service log: {last[-1][:200]})" if last else text


def measure(bench: Bench) -> list[HwRow]:
    return [measure_group(bench, g) for g in GROUPS]


def report(rows: list[HwRow], bench: Bench) -> str:
    s = bench.settings
    top = max(s.concurrency)
    headers = ["operation", "workers", "in-process", "in-process ops/s"]
    for n in s.concurrency:
        headers += [f"service {n}c ops/s", f"{n}c / in-process", f"{n}c p50 ms", f"{n}c p99 ms"]
    headers += [f"server CPU us/op ({top}c)"]
    table_rows, create_rows, notes = [], [], []
    for r in rows:
        if r.skipped:
            notes.append(f"skipped: {r.name}: {r.skipped}")
            continue
        for w, ms in r.service.items():
            cells = [r.name, str(w), r.in_process_label, fmt_rate(r.in_process)]
            for n in s.concurrency:
                m = ms[n]
                cells += [fmt_rate(m.rate), f"{m.rate / r.in_process:.1%}", fmt_ms(m.p50_ms),
                          fmt_ms(m.p99_ms)]
            cells.append(fmt_opt(ms[top].server_cpu_us_per_req))
            table_rows.append(cells)
        for w, why in r.failed.items():
            notes.append(f"not measured: {r.name}, workers={w}: {why}")
        ws = sorted(r.service)
        if len(ws) > 1:
            lo, hi = r.service[ws[0]][top], r.service[ws[-1]][top]
            notes.append(f"Scaling: {r.name}, {top} clients, workers={ws[-1]} / workers={ws[0]}: "
                         f"{div(hi.rate, lo.rate):.2f}x")
        if r.create is not None:
            c = r.create
            create_rows.append([r.name.replace("ECDSA P-256 sign via", "PsaGenerateKey ECC P-256 via"),
                                str(max(r.service)), str(c.clients), fmt_rate(c.rate),
                                fmt_ms(c.p50_ms), fmt_ms(c.p99_ms),
                                fmt_opt(c.server_cpu_us_per_req), str(c.failed)])
    out = ["Hardware-backed providers (own service each; new connection per request) beside the "
           f"same back-end in-process on one thread ({s.duration:g} s per cell; in-process: the "
           "better of a cell before the services and one after)"]
    if table_rows:
        out.append(table(headers, table_rows))
    out += notes
    if create_rows:
        out += ["", "Key creation through the hardware-backed providers (a new name per request)",
                table(["operation", "workers", "clients", "keys/s", "p50 ms", "p99 ms",
                       "server CPU us/key", "errors"], create_rows)]
    failures = sum(m.failed for r in rows for ms in r.service.values() for m in ms.values())
    if failures:
        out.append(f"WARNING: {failures} requests failed during the measurements")
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
