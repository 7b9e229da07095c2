"""Helpers for tests of a service with several worker processes: which worker served what (from
the debug log), the supervisor's children, load from several threads."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable

from pqptest.service import ServiceProcess


def served_by(svc: ServiceProcess, app: str, opcode: str, status: str | None = None) -> set[int]:
    """The workers whose log shows `opcode` by `app` (with `status`, if given)."""
    any_status = r"\S+"
    pattern = (rf"\[worker (\d+)\] pqparsec\.requests: app={re.escape(app)} provider=\S+ "
               rf"opcode={opcode} status={status or any_status}")
    return {int(m) for m in re.findall(pattern, svc.log())}


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def hammer(action: Callable[[], object], until: Callable[[], bool], threads: int = 4,
           timeout: float = 20.0) -> list[BaseException]:
    """Run `action` from several threads until `until()` holds; the errors raised."""
    errors: list[BaseException] = []
    done = threading.Event()
    deadline = time.monotonic() + timeout

    def loop() -> None:
        while not done.is_set() and time.monotonic() < deadline:
            try:
                action()
            except BaseException as exc:  # collected for the test to judge
                errors.append(exc)

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    try:
        while time.monotonic() < deadline and not until():
            time.sleep(0.05)
    finally:
        done.set()
        for t in pool:
            t.join()
    assert until(), f"the condition was not reached; first error: {errors[:1]!r}"
    return errors


def relayed_by(svc: ServiceProcess, app: str, opcode: str) -> set[int]:
    """The workers whose log shows `opcode` by `app` relayed to the TPM owner."""
    pattern = (rf"\[worker (\d+)\] pqparsec\.requests: app={re.escape(app)} provider=\S+ "
               rf"opcode={opcode} relayed to the owner")
    return {int(m) for m in re.findall(pattern, svc.log())}
