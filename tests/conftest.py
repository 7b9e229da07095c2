from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pqptest.service import ServiceProcess

ALLOWED_SKIPS = Path(__file__).resolve().parent / "allowed_skips.txt"


@pytest.fixture(scope="module")
def direct_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One service per test module: Direct authenticator, admin "admin", software provider."""
    # Imported here: test_allowed_skips.py runs this file's skip audit in a pytest of its own,
    # without the `pythonpath` that makes `pqptest` importable.
    from pqptest.service import ServiceProcess

    tmp = tmp_path_factory.mktemp("svc")
    svc = ServiceProcess(str(tmp), auth_type="Direct", admins=["admin"])
    svc.start()
    yield svc
    svc.stop()


# ------------------------------------------------------------------------------------------------
# No silent gaps (issue 12): a skip that is not in tests/allowed_skips.txt fails the run.


@dataclass(frozen=True)
class AllowedSkip:
    nodeid: str
    reason: str
    why: str

    def matches(self, nodeid: str, reason: str) -> bool:
        return fnmatch.fnmatchcase(nodeid, self.nodeid) and fnmatch.fnmatchcase(reason, self.reason)


def load_allowed_skips(path: Path = ALLOWED_SKIPS) -> list[AllowedSkip]:
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        if len(parts) != 3 or not all(parts):
            raise pytest.UsageError(f"{path}:{n}: want '<node id pattern> | <reason pattern> | "
                                    f"<why>', got {line!r}")
        out.append(AllowedSkip(*parts))
    return out


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


class SkipAudit:
    def __init__(self, allowed: list[AllowedSkip]) -> None:
        self.allowed = allowed
        self.allowed_seen: list[tuple[str, str]] = []
        self.unlisted: list[tuple[str, str]] = []

    def _record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):  # an xfail is not a skip
            return
        reason = skip_reason(report)
        seen = (report.nodeid, reason)
        if any(a.matches(*seen) for a in self.allowed):
            self.allowed_seen.append(seen)
        else:
            self.unlisted.append(seen)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unlisted and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        tr = terminalreporter
        if self.unlisted:
            tr.section("skips not in tests/allowed_skips.txt", sep="=", red=True, bold=True)
            for nodeid, reason in self.unlisted:
                tr.line(f"{nodeid}: {reason}", red=True)
            tr.line(f"{len(self.unlisted)} unlisted skip(s): the run fails. Make the test assert "
                    f"the behaviour instead, or list a missing component in {ALLOWED_SKIPS.name}.",
                    red=True)
        reasons = sorted({r for _, r in self.allowed_seen})
        tr.write_line(f"allowed skips: {len(self.allowed_seen)}"
                      + (f" ({'; '.join(reasons)})" if reasons else ""))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "provider_cases(argnames, values, where, ids): which "
                            "providers (and cases) a test of tests/providers runs for; see "
                            "tests/providers/capabilities")
    config.pluginmanager.register(SkipAudit(load_allowed_skips()), "pqparsec-skip-audit")
