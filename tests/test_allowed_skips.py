"""The skip audit of tests/conftest.py (issue 12): a run with a skip that tests/allowed_skips.txt
does not list fails, and prints it; listed skips are counted in the summary. Checked by running
pytest on a small test directory in a child process, with the real hook and an allowlist of its
own."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent


def _root_conftest() -> ModuleType:
    """tests/conftest.py, by path: `import conftest` could find another directory's."""
    spec = importlib.util.spec_from_file_location("pqp_root_conftest", HERE / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


root = _root_conftest()
load_allowed_skips = root.load_allowed_skips


def test_allowlist_is_well_formed_and_lists_no_capability_skip() -> None:
    entries = load_allowed_skips()
    assert entries
    for e in entries:
        # a missing component or user, never the capability skips issue 12 removed
        for phrase in ("does not support", "cannot generate", "cannot import", "cannot use",
                       "does not list", " has no "):
            assert phrase not in e.reason, e
        assert e.nodeid.startswith("tests/"), e


def test_bad_allowlist_line_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "allowed.txt"
    bad.write_text("tests/x.py::* | a reason without the why\n")
    with pytest.raises(pytest.UsageError, match=r"allowed\.txt:1"):
        load_allowed_skips(bad)


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp / "conftest.py").write_text(textwrap.dedent(f"""
        import importlib.util
        import sys
        from pathlib import Path

        spec = importlib.util.spec_from_file_location("pqp_root_conftest", {str(HERE / "conftest.py")!r})
        root = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = root
        spec.loader.exec_module(root)


        def pytest_configure(config):
            allowed = root.load_allowed_skips(Path({str(tmp / "allowed.txt")!r}))
            config.pluginmanager.register(root.SkipAudit(allowed), "audit")
    """))
    (tmp / "allowed.txt").write_text(
        "# comment\n"
        "test_sample.py::test_missing_tool | frobnicate is not installed | no frobnicate here\n"
        "test_module_skip.py | could not import 'no_such_module_xyz'* | an optional package\n")
    (tmp / "test_sample.py").write_text(textwrap.dedent("""
        import pytest

        def test_missing_tool():
            pytest.skip("frobnicate is not installed")

        def test_capability_gap():
            pytest.skip("provider X does not support Y")

        @pytest.mark.xfail(strict=True, reason="a known bug")
        def test_known_bug():
            assert False

        def test_passes():
            assert True
    """))
    (tmp / "test_module_skip.py").write_text(
        "import pytest\npytest.importorskip('no_such_module_xyz')\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp), *args],
                          cwd=tmp, capture_output=True, text=True, timeout=120)


def test_an_unlisted_skip_fails_the_run(tmp_path: Path) -> None:
    done = _run(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skips not in tests/allowed_skips.txt" in done.stdout
    assert "test_sample.py::test_capability_gap: provider X does not support Y" in done.stdout
    assert "1 unlisted skip(s)" in done.stdout
    # the listed ones, the module skipped at collection included, are counted; an xfail is not a skip
    assert "allowed skips: 2 (" in done.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in done.stdout


def test_listed_skips_pass_and_are_counted(tmp_path: Path) -> None:
    done = _run(tmp_path, "-k", "not capability_gap")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unlisted" not in done.stdout
    assert "allowed skips: 2 (could not import 'no_such_module_xyz'" in done.stdout


def test_the_real_allowlist_is_the_one_in_use() -> None:
    assert root.ALLOWED_SKIPS == HERE / "allowed_skips.txt"
