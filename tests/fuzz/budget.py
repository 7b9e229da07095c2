"""How long each fuzz target runs, and the hypothesis settings they share.

A target is a hypothesis test run in rounds of a few examples until its time is up.
PQPARSEC_FUZZ_SECONDS is the time of the whole set (default 20 s, so that it stays well under a
minute in the normal pytest run; `make fuzz FUZZ_SECONDS=600` runs it for ten minutes), shared
out by SHARES. Hypothesis keeps no database in the repository (database=None), and examples have
no deadline (a key generation may take a while on a loaded machine).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

FUZZ_SECONDS_ENV = "PQPARSEC_FUZZ_SECONDS"
DEFAULT_FUZZ_SECONDS = 20.0
# Each target's share of the time.
SHARES = {"framing": 0.12, "body": 0.12, "handler": 0.22, "scenarios": 0.22, "lifecycle": 0.16,
          "store": 0.16}
assert abs(sum(SHARES.values()) - 1) < 1e-9


def fuzz_seconds(target: str) -> float:
    value = os.environ.get(FUZZ_SECONDS_ENV, "")
    total = float(value) if value.strip() else DEFAULT_FUZZ_SECONDS
    return total * SHARES[target]


def fuzz_settings(examples_per_round: int, **extra: Any) -> settings:
    return settings(database=None, deadline=None, max_examples=examples_per_round,
                    suppress_health_check=list(HealthCheck), print_blob=True, **extra)


def run_for(seconds: float, round_: Callable[[], None]) -> int:
    """Run round_ (a @given test) again and again for `seconds`, at least once; each round draws
    fresh examples. Returns the number of rounds."""
    end = time.monotonic() + seconds
    rounds = 0
    while True:
        round_()
        rounds += 1
        if time.monotonic() >= end:
            return rounds
