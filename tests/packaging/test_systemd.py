"""The systemd units in packaging/systemd: systemd accepts them, rates their exposure, and the
service runs the way they start it.

systemd is not PID 1 here, so the service is started by hand from settings read out of the unit
files (none is repeated here): User=, Group=, SupplementaryGroups=, UMask=, NoNewPrivileges=, the
empty capability sets, Environment=, ExecStart=, the state and runtime directories' modes, the
socket unit's ListenStream=, SocketUser=, SocketGroup=, SocketMode= (socket on fd 3, LISTEN_FDS,
LISTEN_PID), and NOTIFY_SOCKET. Where the tools and kernel allow, PrivateNetwork=,
ProtectProc=invisible, ProcSubset=pid (unshare, a proc mount) and MemoryDenyWriteExecute=
(PR_SET_MDWE) are reproduced too; seccomp and the read-only file system need systemd itself.
Users and groups are throwaway ones (needs root): "parsec" a fresh user with its own group,
"parsec-clients" a fresh group, plus one member of it and one outsider.
"""

from __future__ import annotations

import contextlib
import ctypes
import grp
import json
import os
import pwd
import re
import secrets
import select
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ROOT, public_tmpdir

from pqparsec.client import BasicClient

UNITS = ROOT / "packaging" / "systemd"
CONFIG = ROOT / "packaging" / "config.toml"
PQPARSEC = Path(sys.executable).parent / "pqparsec"  # the repo venv's, for /opt/pqparsec/bin's
DROP_INS = ("tpm.conf.example", "pkcs11-softhsm.conf.example")
RATINGS = ("PERFECT", "SAFE", "OK")  # systemd-analyze's best ratings, best first

Unit = dict[str, dict[str, list[str]]]


def need(*tools: str, root: bool = False) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install systemd util-linux passwd)")
    if root and os.geteuid() != 0:
        pytest.skip("needs root: creates users, groups and files owned by them")


def read_unit(path: Path) -> Unit:
    """section -> key -> values, in order; an empty assignment resets the list, as in systemd."""
    unit: Unit = {}
    section: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = unit.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        values = section.setdefault(key.strip(), [])
        if value.strip():
            values.append(value.strip())
        else:
            values.clear()
    return unit


SERVICE = read_unit(UNITS / "pqparsec.service")["Service"]
SOCKET = read_unit(UNITS / "pqparsec.socket")["Socket"]


def one(settings: dict[str, list[str]], key: str) -> str:
    assert settings.get(key), f"the unit sets no {key}="
    return settings[key][-1]


def words(settings: dict[str, list[str]], key: str) -> list[str]:
    return [w for v in settings.get(key, []) for w in v.split()]


def yes(settings: dict[str, list[str]], key: str) -> bool:
    return settings.get(key, ["no"])[-1] in ("yes", "true", "1", "on", "invisible", "pid")


def unit_copy(tmp: Path, drop_in: str | None = None) -> Path:
    """The units with ExecStart='s program replaced by the repo venv's pqparsec: verify checks
    that the program exists. A drop-in goes where systemd looks for it, next to the unit."""
    program = shlex.split(one(SERVICE, "ExecStart"))[0]
    text = (UNITS / "pqparsec.service").read_text()
    assert f"ExecStart={program} " in text
    (tmp / "pqparsec.service").write_text(text.replace(f"ExecStart={program} ",
                                                       f"ExecStart={PQPARSEC} "))
    shutil.copy(UNITS / "pqparsec.socket", tmp / "pqparsec.socket")
    if drop_in:
        (tmp / "pqparsec.service.d").mkdir()
        shutil.copy(UNITS / drop_in, tmp / "pqparsec.service.d" / drop_in.removesuffix(".example"))
    return tmp / "pqparsec.service"


def verify(service: Path) -> list[str]:
    """systemd-analyze verify's complaints about our files (it exits 0 on unknown keys and bad
    values, and only says so)."""
    run = subprocess.run(["systemd-analyze", "verify", str(service),
                          str(service.with_suffix(".socket"))],
                         capture_output=True, text=True, timeout=60)
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if "pqparsec" in ln]
    return lines if run.returncode == 0 else [*lines, f"exit status {run.returncode}"]


@pytest.mark.parametrize("drop_in", [None, *DROP_INS])
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path, drop_in: str | None) -> None:
    need("systemd-analyze")
    assert verify(unit_copy(tmp_path, drop_in)) == []


def test_verify_reports_a_bad_setting(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key in the same copy is reported."""
    need("systemd-analyze")
    service = unit_copy(tmp_path)
    service.write_text(service.read_text().replace("ProtectHome=", "ProtectHomes="))
    assert any("ProtectHomes" in line for line in verify(service))


@pytest.mark.parametrize("drop_in", [None, *DROP_INS])
def test_exposure_is_ok_or_better(tmp_path: Path, drop_in: str | None,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    need("systemd-analyze")
    run = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                          str(unit_copy(tmp_path, drop_in))],
                         capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for pqparsec\.service: ([0-9.]+) (\w+)", run.stdout)
    assert found, run.stdout + run.stderr
    with capsys.disabled():
        print(f"\n[systemd-analyze security] pqparsec.service"
              f"{' + ' + drop_in if drop_in else ''}: {found[1]} {found[2]}")
    assert found[2] in RATINGS, run.stdout
    assert float(found[1]) <= 1.0, run.stdout


def test_units_name_only_the_accounts_sysusers_creates() -> None:
    text = (UNITS / "pqparsec.sysusers").read_text()
    users = set(re.findall(r"^u\s+(\S+)", text, re.M))
    groups = set(re.findall(r"^g\s+(\S+)", text, re.M)) | users  # u also makes a group
    assert one(SERVICE, "User") in users and one(SOCKET, "SocketUser") in users
    for g in [one(SERVICE, "Group"), one(SOCKET, "SocketGroup"),
              *words(SERVICE, "SupplementaryGroups")]:
        assert g in groups, g
    tmpfile = (UNITS / "pqparsec.tmpfiles").read_text().split("\n")
    entry = next(ln.split() for ln in tmpfile if ln.startswith("d "))
    assert entry[1] == os.path.dirname(one(SOCKET, "ListenStream"))
    assert (entry[3], entry[4]) == (one(SOCKET, "SocketUser"), one(SOCKET, "SocketGroup"))
    assert entry[2] == one(SERVICE, "RuntimeDirectoryMode")


def test_sysusers_and_tmpfiles_offline(tmp_path: Path) -> None:
    need("systemd-sysusers", "systemd-tmpfiles", root=True)
    (tmp_path / "etc").mkdir()
    for cmd in (["systemd-sysusers", f"--root={tmp_path}", str(UNITS / "pqparsec.sysusers")],
                ["systemd-tmpfiles", f"--root={tmp_path}", "--create",
                 str(UNITS / "pqparsec.tmpfiles")]):
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
    passwd, group = ({ln.split(":")[0]: ln.split(":") for ln in (tmp_path / "etc" / f).read_text()
                      .splitlines()} for f in ("passwd", "group"))
    user = passwd["parsec"]
    assert user[5:] == ["/var/lib/parsec", "/usr/sbin/nologin"]
    assert int(user[2]) < 1000, "a system user"
    assert "parsec-clients" in group and "parsec" in group
    st = os.stat(tmp_path / "run" / "parsec")
    assert stat.S_IMODE(st.st_mode) == 0o750
    assert (st.st_uid, st.st_gid) == (int(user[2]), int(group["parsec-clients"][2]))


# -- the service, started as the unit starts it ----------------------------------------------


@dataclass
class Accounts:
    service: pwd.struct_passwd  # for "parsec"; its own group stands for group "parsec"
    clients: grp.struct_group  # for "parsec-clients"
    member: pwd.struct_passwd  # in clients
    outsider: pwd.struct_passwd  # not

    def uid(self, name: str) -> int:  # the unit's names (sysusers) -> the throwaway ids
        return {"parsec": self.service.pw_uid}[name]

    def gid(self, name: str) -> int:
        return {"parsec": self.service.pw_gid, "parsec-clients": self.clients.gr_gid}[name]


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    need("useradd", "userdel", "groupadd", "groupdel", "setpriv", "sh", root=True)
    tag = secrets.token_hex(3)
    svc, cli, member, outsider = (f"pqpsd-{r}-{tag}" for r in ("svc", "cli", "app", "out"))
    made: list[list[str]] = []
    try:
        for add, undo in ((["groupadd", cli], ["groupdel", cli]),
                          (["useradd", "-M", "-U", "-s", "/usr/sbin/nologin", svc], ["userdel", svc]),
                          (["useradd", "-M", "-U", "-G", cli, member], ["userdel", member]),
                          (["useradd", "-M", "-U", outsider], ["userdel", outsider])):
            run = subprocess.run(add, capture_output=True, text=True)
            if run.returncode != 0:
                pytest.skip(f"cannot create a throwaway account: {run.stderr.strip()}")
            made.append(undo)
        yield Accounts(pwd.getpwnam(svc), grp.getgrnam(cli), pwd.getpwnam(member),
                       pwd.getpwnam(outsider))
    finally:
        for undo in reversed(made):
            subprocess.run(undo, capture_output=True)
            if undo[0] == "userdel":  # its own group, if userdel left it
                subprocess.run(["groupdel", undo[1]], capture_output=True)


def as_user(user: pwd.struct_passwd, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    """fn() in a forked child with the user's uid, gid and groups; its JSON-able result, or
    {"errno": n} for an OSError."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups(os.getgrouplist(user.pw_name, user.pw_gid))
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            try:
                out: Any = {"ok": fn()}
            except OSError as exc:
                out = {"errno": exc.errno}
        except BaseException as exc:
            out = {"error": repr(exc)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    with open(r, "rb") as pipe:
        while select.select([pipe], [], [], timeout)[0] and (chunk := pipe.read1(65536)):
            data += chunk
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    result = json.loads(data or b'{"error": "no answer"}')
    assert "error" not in result, f"as {user.pw_name}: {result['error']}"
    return result


class Notifications:
    """NOTIFY_SOCKET: a datagram socket the service reports its state to."""

    def __init__(self, path: str, uid: int) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chown(path, uid, -1)
        self.seen: list[str] = []

    def wait(self, message: str, proc: subprocess.Popen[bytes], log: Path,
             timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while message not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {message} (got {self.seen}):\n{log.read_text()}"
            if select.select([self.sock], [], [], min(left, 0.2))[0]:
                self.seen += self.sock.recv(4096).decode().split("\n")
            elif proc.poll() is not None:
                raise AssertionError(f"service exited {proc.returncode}:\n{log.read_text()}")
        self.seen.remove(message)


def mdwe() -> None:
    """MemoryDenyWriteExecute= from the kernel (PR_SET_MDWE, Linux 6.3+), kept across exec."""
    if ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
        os._exit(97)


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    notify: Notifications
    log: Path
    socket_path: str
    state: Path
    sandbox: list[str]


@pytest.fixture
def start_as_unit(accounts: Accounts) -> Iterator[Callable[[bool], Started]]:
    """start(activated) -> the service run as the unit runs it, in a fresh tree standing for
    /etc/parsec, /var/lib/parsec and /run/parsec; the socket passed if activated."""
    base = Path(public_tmpdir("pqp-systemd-"))
    procs: list[subprocess.Popen[bytes]] = []
    a = accounts
    user, group = a.uid(one(SERVICE, "User")), a.gid(one(SERVICE, "Group"))

    def start(activated: bool) -> Started:
        paths = {"/run/parsec": base / "run" / "parsec", "/var/lib/parsec": base / "lib" / "parsec",
                 "/etc/parsec": base / "etc" / "parsec"}

        def local(path: str) -> str:
            for real, here in paths.items():
                path = path.replace(real, str(here))
            return path

        for d in paths.values():
            d.mkdir(parents=True)
        # StateDirectory= / RuntimeDirectory=: owned by User:Group, with the unit's modes.
        for key, real in (("StateDirectory", "/var/lib/parsec"), ("RuntimeDirectory", "/run/parsec")):
            assert one(SERVICE, key) == os.path.basename(real)
            os.chown(paths[real], user, group)
            os.chmod(paths[real], int(one(SERVICE, f"{key}Mode"), 8))
        config = local(CONFIG.read_text())
        assert '"/run/parsec' not in config and '"/var/lib/parsec' not in config
        argv = shlex.split(one(SERVICE, "ExecStart"))
        config_path = Path(local(argv[argv.index("--config") + 1]))
        config_path.write_text(config)
        os.chown(config_path, 0, a.gid("parsec"))  # root:parsec 0640, as docs/deploy.md says
        os.chmod(config_path, 0o640)

        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(paths["/var/lib/parsec"]),
               "LANG": "C.UTF-8"}
        for assignment in SERVICE.get("Environment", []):
            env.update(v.partition("=")[::2] for v in shlex.split(assignment))
        notify = Notifications(str(base / "notify.sock"), user)
        env["NOTIFY_SOCKET"] = notify.path
        pass_fds: tuple[int, ...] = ()
        listen = local(one(SOCKET, "ListenStream"))
        if activated:  # what systemd does for pqparsec.socket
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(listen)
            os.chown(listen, a.uid(one(SOCKET, "SocketUser")), a.gid(one(SOCKET, "SocketGroup")))
            os.chmod(listen, int(one(SOCKET, "SocketMode"), 8))
            sock.listen(int(SOCKET.get("Backlog", ["128"])[-1]))
            pass_fds = (sock.detach(),)
            env["LISTEN_FDS"] = "1"

        groups = [group, *(a.gid(g) for g in words(SERVICE, "SupplementaryGroups"))]
        priv = ["setpriv", f"--reuid={user}", f"--regid={group}",
                f"--groups={','.join(map(str, groups))}"]
        if yes(SERVICE, "NoNewPrivileges"):
            priv.append("--no-new-privs")
        probe = subprocess.run([*priv, sys.executable, "-c", "import pqparsec.service.app"],
                               capture_output=True)
        if probe.returncode != 0:  # the interpreter lives where this user may not read
            priv += ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        elif SERVICE.get("CapabilityBoundingSet") == [] and "AmbientCapabilities" in SERVICE:
            priv += ["--bounding-set=-all", "--inh-caps=-all"]
        sandbox: list[str] = []
        mount = "mount -t proc -o subset=pid,hidepid=invisible proc /proc"
        unshare = ["unshare", "--mount", "--net", "--", "sh", "-c", f'{mount} && exec "$@"', "sh"]
        if (yes(SERVICE, "PrivateNetwork") and yes(SERVICE, "ProcSubset") and shutil.which("unshare")
                and subprocess.run([*unshare, "true"], capture_output=True).returncode == 0):
            priv = [*unshare, *priv]
            sandbox += ["PrivateNetwork", "ProcSubset=pid", "ProtectProc=invisible"]
        use_mdwe = yes(SERVICE, "MemoryDenyWriteExecute") and subprocess.run(
            ["true"], preexec_fn=mdwe).returncode == 0
        if use_mdwe:
            sandbox.append("MemoryDenyWriteExecute")
        command = [str(PQPARSEC), *(local(arg) for arg in argv[1:])]
        fd = pass_fds[0] if pass_fds else -1

        def child() -> None:  # after fork, before exec: the socket on fd 3, as systemd does
            if fd >= 0:
                os.dup2(fd, 3)  # inheritable, unlike fd
            if use_mdwe:
                mdwe()

        # LISTEN_PID: the shell's pid, kept by every exec after it (unshare, setpriv, pqparsec).
        script = '[ "$1" = yes ] && export LISTEN_PID=$$; shift; exec "$@"'
        log = base / f"service-{len(procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                ["sh", "-c", script, "sh", "yes" if activated else "no", *priv, "--", *command],
                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                close_fds=False, umask=int(one(SERVICE, "UMask"), 8), cwd="/", preexec_fn=child)
        if fd >= 0:
            os.close(fd)
        procs.append(proc)
        notify.wait("READY=1", proc, log)
        return Started(proc, notify, log, listen, paths["/var/lib/parsec"], sandbox)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    shutil.rmtree(base, ignore_errors=True)


def use_the_service(started: Started, accounts: Accounts, keys: list[str]) -> None:
    """A member of parsec-clients pings and makes a key (the last of `keys`, which it then owns);
    anyone else cannot even connect."""
    endpoint = f"unix:{started.socket_path}"
    ecc_p256_sign_attrs()  # imported before the fork

    def work() -> list[Any]:
        c = BasicClient(endpoint=endpoint, timeout=10)
        c.generate_key(keys[-1], ecc_p256_sign_attrs())
        return [list(c.ping()), sorted(k.name for k in c.list_keys())]

    assert as_user(accounts.member, work) == {"ok": [[1, 0], sorted(keys)]}
    outsider = as_user(accounts.outsider, lambda: socket.socket(socket.AF_UNIX).connect(
        started.socket_path))
    assert outsider == {"errno": 13}  # EACCES
    # Key store and KEK: written by the service's user, for it alone.
    files = list(started.state.rglob("*"))
    assert any(p.name == "software-provider.kek" for p in files), files
    for p in files:
        st = p.lstat()
        assert st.st_uid == accounts.service.pw_uid, p
        assert stat.S_IMODE(st.st_mode) == (0o700 if p.is_dir() else 0o600), (p, oct(st.st_mode))


def check_process(s: Started, accounts: Accounts) -> None:
    """The identity the unit gives, and the sandbox parts reproduced, are the process's."""
    proc = Path(f"/proc/{s.proc.pid}")
    ids = {k: set(map(int, v.split())) for k, v in re.findall(r"^(Uid|Gid|Groups):(.*)$",
                                                             (proc / "status").read_text(), re.M)}
    assert ids["Uid"] == {accounts.service.pw_uid} and ids["Gid"] == {accounts.clients.gr_gid}
    assert accounts.service.pw_gid in ids["Groups"]
    if "PrivateNetwork" in s.sandbox:
        assert os.readlink(proc / "ns" / "net") != os.readlink("/proc/self/ns/net")
        assert "subset=pid" in (proc / "mountinfo").read_text()
    print("sandbox reproduced:", s.sandbox or "none")


def test_socket_activated_service(start_as_unit: Callable[[bool], Started],
                                  accounts: Accounts) -> None:
    s = start_as_unit(True)
    check_process(s, accounts)
    use_the_service(s, accounts, ["k1"])
    # systemctl reload: ExecReload= sends SIGHUP to the main process.
    assert one(SERVICE, "ExecReload").split()[-2:] == ["-HUP", "$MAINPID"]
    s.proc.send_signal(signal.SIGHUP)
    s.notify.wait("RELOADING=1", s.proc, s.log)
    s.notify.wait("READY=1", s.proc, s.log)
    assert "configuration reloaded" in s.log.read_text()
    use_the_service(s, accounts, ["k1", "k2"])  # the key store still has k1
    s.proc.send_signal(signal.SIGTERM)
    s.notify.wait("STOPPING=1", s.proc, s.log)
    assert s.proc.wait(20) == 0, s.log.read_text()
    assert os.path.exists(s.socket_path), "the socket is systemd's: the service leaves it"


def test_service_without_its_socket_unit(start_as_unit: Callable[[bool], Started],
                                         accounts: Accounts) -> None:
    """The service binds the socket itself in RuntimeDirectory=: Group= gives it the group."""
    s = start_as_unit(False)
    check_process(s, accounts)
    st = os.stat(s.socket_path)
    assert (st.st_uid, st.st_gid) == (accounts.service.pw_uid, accounts.clients.gr_gid)
    assert stat.S_IMODE(st.st_mode) == 0o660
    use_the_service(s, accounts, ["k1"])
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(20) == 0, s.log.read_text()
    assert not os.path.exists(s.socket_path)
