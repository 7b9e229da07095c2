"""The socket's directory: created with a fixed mode whatever the umask, and refused when any local
user could replace the socket in it (writable by others, no sticky bit)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess, run_serve

MakeService = Callable[..., ServiceProcess]


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The service inherits the umask of the process that starts it."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_created_directories_are_0755_under_umask_000(make_service: MakeService,
                                                      tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    sock = run_dir / "parsec" / "parsec.sock"
    svc = make_service(start=False, listener={"socket_path": str(sock)})
    with umask(0o000):
        svc.start()
    assert svc.client("x").ping() == (1, 0)
    # Both missing levels, not only the last one (os.makedirs gives parents 0777 & ~umask).
    assert mode(run_dir) == 0o755, oct(mode(run_dir))
    assert mode(run_dir / "parsec") == 0o755, oct(mode(run_dir / "parsec"))
    assert mode(sock) == 0o666  # listener.socket_mode, applied explicitly as before


def test_created_directory_is_0755_under_a_strict_umask(make_service: MakeService,
                                                        tmp_path: Path) -> None:
    """The mode is explicit, not mkdir's request filtered by the umask."""
    sock = tmp_path / "run" / "parsec.sock"
    svc = make_service(start=False, listener={"socket_path": str(sock)})
    with umask(0o077):
        svc.start()
    assert mode(sock.parent) == 0o755


def test_world_writable_directory_is_refused(make_service: MakeService, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    sock = shared / "parsec.sock"
    svc = make_service(start=False, listener={"socket_path": str(sock)})
    svc.write_config()
    run = run_serve(svc.config_path, timeout=15)
    assert run.returncode == 2, run.stderr
    lines = [ln for ln in run.stderr.splitlines() if "cannot start" in ln]
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("pqparsec: cannot start: "), line
    assert str(shared) in line and "0777" in line and f"chmod o-w {shared}" in line, line
    assert "Traceback" not in run.stderr, run.stderr
    assert not sock.exists()
    assert mode(shared) == 0o777  # the service changes nothing it did not create


def test_other_writable_directory_without_group_write_is_refused(make_service: MakeService,
                                                                 tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o753)
    svc = make_service(start=False, listener={"socket_path": str(shared / "parsec.sock")})
    svc.write_config()
    run = run_serve(svc.config_path, timeout=15)
    assert run.returncode == 2 and "0753" in run.stderr and str(shared) in run.stderr, run.stderr


def served_in(make_service: MakeService, directory: Path, dir_mode: int) -> ServiceProcess:
    """A service whose socket is in an existing `directory` of mode `dir_mode`; it answers."""
    directory.mkdir()
    os.chmod(directory, dir_mode)
    svc = make_service(listener={"socket_path": str(directory / "parsec.sock")})
    assert svc.client("x").ping() == (1, 0)
    assert mode(directory) == dir_mode  # the service changes nothing it did not create
    return svc


def test_sticky_world_writable_directory_is_accepted(make_service: MakeService,
                                                     tmp_path: Path) -> None:
    """Like /tmp: others may create files but not remove or rename ours."""
    svc = served_in(make_service, tmp_path / "sticky", 0o1777)
    assert "socket directory" not in svc.log()


def test_group_writable_directory_starts_with_a_warning(make_service: MakeService,
                                                       tmp_path: Path) -> None:
    shared = tmp_path / "group"
    svc = served_in(make_service, shared, 0o770)
    warnings = [ln for ln in svc.log().splitlines()
                if ln.startswith("WARNING") and "socket directory" in ln]
    assert len(warnings) == 1 and str(shared) in warnings[0] and "0770" in warnings[0], svc.log()


def test_existing_0755_directory_is_used_silently(make_service: MakeService,
                                                  tmp_path: Path) -> None:
    svc = served_in(make_service, tmp_path / "plain", 0o755)
    assert "socket directory" not in svc.log()


def test_key_store_and_kek_directories_are_0700_under_umask_000(make_service: MakeService,
                                                                tmp_path: Path) -> None:
    """Every directory created for the key store and the key-encryption key, parents included,
    is the service's alone: under umask 000 os.makedirs would leave the parents 0777."""
    state = tmp_path / "state"
    db = state / "kim-mappings" / "sqlite" / "kim.sqlite3"
    kek = state / "keys" / "kek" / "software-provider.kek"
    svc = make_service(start=False, key_manager={"sqlite_db_path": str(db)},
                       providers=[{"provider_type": "MbedCrypto", "kek_path": str(kek)}])
    with umask(0o000):
        svc.start()
    client = svc.client("x")
    client.generate_key("k", ecc_p256_sign_attrs())
    for d in (state, db.parent.parent, db.parent, kek.parent.parent, kek.parent):
        assert mode(d) == 0o700, (d, oct(mode(d)))
    assert mode(db) == 0o600 and mode(kek) == 0o600
