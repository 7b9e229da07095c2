"""`pqparsec serve` refuses a bad config.toml: non-zero exit, a message naming the key and the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pqptest.service import render_config, run_serve


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def base(tmp_path: Path, **kw: object) -> str:
    return render_config(str(tmp_path), **kw)  # type: ignore[arg-type]


def drop_table(text: str, table: str) -> str:
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.strip() == f"[{table}]"
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def add_to_table(text: str, table: str, line: str) -> str:
    return text.replace(f"[{table}]\n", f"[{table}]\n{line}\n", 1)


CASES: dict[str, tuple[object, tuple[str, ...]]] = {
    # name: (config text factory, words the message must contain besides the file name)
    "unknown_core_key": (lambda t: add_to_table(base(t), "core_settings", "bogus_setting = 1"),
                         ("bogus_setting", "core_settings")),
    "unknown_listener_key": (lambda t: add_to_table(base(t), "listener", "sokcet_path = \"/x\""),
                             ("sokcet_path", "listener")),
    "unknown_authenticator_key": (lambda t: add_to_table(base(t), "authenticator", "admin = []"),
                                  ("admin", "authenticator")),
    "unknown_table": (lambda t: base(t) + "[bogus_table]\nx = 1\n", ("bogus_table",)),
    "unknown_provider_key": (lambda t: base(t, providers=[{"provider_type": "MbedCrypto",
                                                            "librar_path": "/x"}]),
                             ("librar_path",)),
    "bad_log_level": (lambda t: base(t, core={"log_level": "loud"}), ("log_level", "loud")),
    "bad_timeout_type": (lambda t: base(t, listener={"timeout": "soon"}), ("timeout",)),
    "zero_timeout": (lambda t: base(t, listener={"timeout": 0}), ("timeout",)),
    "zero_body_len_limit": (lambda t: base(t, core={"body_len_limit": 0}), ("body_len_limit",)),
    "negative_buffer_size_limit": (lambda t: base(t, core={"buffer_size_limit": -5}),
                                   ("buffer_size_limit",)),
    "allow_root_not_bool": (lambda t: base(t, core={"allow_root": "yes"}), ("allow_root",)),
    "bad_listener_type": (lambda t: base(t, listener={"listener_type": "Tcp"}), ("listener_type",)),
    "bad_auth_type": (lambda t: base(t, auth_type="Password"), ("auth_type", "Password")),
    "bad_admin_entry": (lambda t: add_to_table(base(t), "authenticator", "admins = [\"root\"]"),
                        ("admins",)),
    "missing_listener": (lambda t: drop_table(base(t), "listener"), ("[listener]",)),
    "no_provider": (lambda t: base(t, providers=[]), ("provider",)),
    "bad_provider_type": (lambda t: base(t, providers=[{"provider_type": "Quantum"}]),
                          ("provider_type", "Quantum")),
    "unknown_key_manager": (lambda t: base(t, providers=[{"provider_type": "MbedCrypto",
                                                          "key_info_manager": "nope"}]),
                            ("key_info_manager", "nope")),
    "bad_manager_type": (lambda t: base(t).replace('manager_type = "SQLite"', 'manager_type = "Redis"'),
                         ("manager_type", "Redis")),
    "not_toml": (lambda t: "[core_settings\nallow_root = true\n", ("TOML",)),
    "socket_path_too_long": (lambda t: base(t, listener={"socket_path": "/tmp/" + "s" * 120}),
                             ("socket_path",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_config_is_refused(tmp_path: Path, name: str) -> None:
    make, words = CASES[name]
    path = write(tmp_path, make(tmp_path))  # type: ignore[operator]
    run = run_serve(path)
    assert run.returncode != 0, run.stdout + run.stderr
    message = run.stderr
    assert path in message, message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "Traceback" not in message, message
    assert not os.path.exists(tmp_path / "parsec.sock")


def test_missing_config_file(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.toml")
    run = run_serve(path)
    assert run.returncode != 0 and path in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_good_config_is_accepted(tmp_path: Path) -> None:
    """The baseline the cases above break: it starts (and is stopped by the timeout guard)."""
    import signal
    import subprocess
    import sys
    import time

    path = write(tmp_path, base(tmp_path))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pqparsec", "serve", "--config", path],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(tmp_path / "parsec.sock") and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert os.path.exists(tmp_path / "parsec.sock")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="checks the refusal to run as root")
def test_allow_root_false_refuses_to_start_as_root(tmp_path: Path) -> None:
    path = write(tmp_path, base(tmp_path, core={"allow_root": False}))
    run = run_serve(path)
    assert run.returncode != 0
    assert "allow_root" in run.stderr and "root" in run.stderr, run.stderr
    assert path in run.stderr, run.stderr
    assert not os.path.exists(tmp_path / "parsec.sock")


@pytest.mark.skipif(os.geteuid() != 0, reason="checks the refusal to run as root")
def test_allow_root_defaults_to_false(tmp_path: Path) -> None:
    text = base(tmp_path).replace("allow_root = true\n", "")
    assert "allow_root =" not in text
    run = run_serve(write(tmp_path, text))
    assert run.returncode != 0 and "allow_root" in run.stderr, run.stderr
