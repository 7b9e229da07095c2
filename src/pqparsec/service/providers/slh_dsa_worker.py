"""slh-dsa's slow calls, in worker processes.

slh-dsa (deterministic SLH-DSA signing, HashSLH-DSA over a finished hash, the PK.root check) is
Python compiled with mypyc, and mypyc code keeps the GIL for the whole of a call: one signature
with an "s" parameter set holds it for 5 to 9 s, during which no other thread of the service
runs. So those calls run in up to two worker processes
(`python -m pqparsec.service.providers.slh_dsa_worker`, started on first use, then kept), and
the provider's thread waits for the answer without holding the GIL. slh-dsa's verification is
fast (10 to 30 ms) and stays in the service's process.

Plain subprocesses rather than `multiprocessing`: its "spawn" re-imports the host program's main
module in each worker, which depends on how the service was started. The pipe carries pickles
between this process and workers it started itself. A worker exits when its stdin closes, so it
never outlives the service.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_WORKERS = min(2, os.cpu_count() or 1)
_LEN = struct.Struct(">I")


# -- what a worker runs ------------------------------------------------------------------------

def _secret_key(params: str, sk: bytes) -> Any:
    """slh-dsa's SecretKey; its constructor recomputes PK.root from SK.seed and PK.seed
    (FIPS 205 slh_keygen_internal) and raises SLHDSAKeyException when it differs."""
    import slhdsa

    n = len(sk) // 4
    return slhdsa.SecretKey((sk[:n], sk[n:2 * n], sk[2 * n:3 * n], sk[3 * n:]),
                            getattr(slhdsa, params))


def root_matches(params: str, sk: bytes) -> bool:
    """Whether PK.root (the last n bytes of the key pair) is the root SK.seed and PK.seed give."""
    import slhdsa

    try:
        _secret_key(params, sk)
    except slhdsa.SLHDSAKeyException:
        return False
    return True


def sign_pure(params: str, sk: bytes, message: bytes, context: bytes, randomize: bool) -> bytes:
    """FIPS 205 slh_sign (Algorithm 22); deterministic (opt_rand = PK.seed) unless `randomize`."""
    return bytes(_secret_key(params, sk).sign_pure(message, randomize=randomize, ctx=context))


def sign_prehashed(params: str, sk: bytes, oid_and_hash: bytes, context: bytes,
                   randomize: bool) -> bytes:
    """FIPS 205 hash_slh_sign (Algorithm 23) of a finished OID(PH) || PH(M)."""
    return bytes(_secret_key(params, sk).sign_hash(
        b"", randomize=randomize, ctx=context, prehash=lambda _: oid_and_hash))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (root_matches, sign_pure, sign_prehashed)}


def _read(stream: IO[bytes]) -> Any:
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError
    body = stream.read(_LEN.unpack(head)[0])
    return pickle.loads(body)


def _write(stream: IO[bytes], obj: Any) -> None:
    body = pickle.dumps(obj)
    stream.write(_LEN.pack(len(body)) + body)
    stream.flush()


def main() -> None:
    """The worker: (function name, args) in on stdin, (ok, result or message) out on stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            name, args = _read(stdin)
        except EOFError:
            return
        try:
            _write(stdout, (True, _FUNCTIONS[name](*args)))
        except Exception as exc:  # reported to the service, which raises it there
            _write(stdout, (False, f"{type(exc).__name__}: {exc}"))


# -- the pool, in the service --------------------------------------------------------------------

class WorkerError(RuntimeError):
    """A call failed inside a worker (the message says how)."""


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ)
        src = str(Path(__file__).resolve().parents[3])  # the directory that holds pqparsec/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, start_new_session=True)  # Ctrl-C is the service's; EOF stops the worker

    def call(self, name: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        """(True, result) or (False, what went wrong in the worker)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        _write(self.proc.stdin, (name, args))
        answer: tuple[bool, Any] = _read(self.proc.stdout)
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:  # a dead worker: what was buffered for it cannot be flushed
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_idle: queue.Queue[_Worker] = queue.Queue()
_slots = threading.BoundedSemaphore(MAX_WORKERS)
_in_process = False  # set when workers cannot run: then calls run here, as a last resort


def run(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a worker process; a worker that dies is replaced once. If workers cannot
    start or answer at all, calls run in this process from then on (correct, only without the
    isolation), with a warning in the log."""
    global _in_process
    if fn.__name__ not in _FUNCTIONS:
        raise ValueError(f"{fn.__name__} is not a worker function")
    for _ in range(2):
        if _in_process:
            break
        with _slots:
            try:
                worker = _idle.get_nowait()
            except queue.Empty:
                try:
                    worker = _Worker()
                except OSError as exc:
                    log.warning("cannot start an slh-dsa worker process: %s", exc)
                    break
            try:
                ok, value = worker.call(fn.__name__, args)
            except (EOFError, OSError, pickle.UnpicklingError):
                worker.close()  # it died (or was killed): try a fresh one
                continue
            _idle.put(worker)
            if not ok:
                raise WorkerError(value)
            result: T = value
            return result
    if not _in_process:
        _in_process = True
        log.warning("slh-dsa worker processes do not run; slh-dsa runs in the service's process, "
                    "which stalls other requests while it signs")
    return fn(*args)


if __name__ == "__main__":
    main()
