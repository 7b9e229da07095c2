"""A real `pqparsec serve` process on a real socket, its configuration, and the other helpers of
starting and watching services."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pqparsec.client import BasicClient
from pqparsec.protocol.header import HEADER_LEN, RawHeader, unpack_response

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def render_config(tmp: str, auth_type: str = "Direct", admins: list[str] | None = None,
                  providers: list[dict[str, Any]] | None = None,
                  core: dict[str, Any] | None = None, listener: dict[str, Any] | None = None,
                  key_manager: dict[str, Any] | None = None) -> str:
    # One process unless a test asks for workers: a test that looks at the service's process
    # (its pid, memory, signals) sees the process that serves. tests/service/test_svc_workers.py
    # and the tests parametrised over workers cover the supervisor.
    core_t = {"allow_root": True, "log_level": "debug", "workers": 1}
    core_t.update(core or {})
    lis = {"listener_type": "DomainSocket", "timeout": 1000,
           "socket_path": os.path.join(tmp, "parsec.sock")}
    lis.update(listener or {})
    auth: dict[str, Any] = {"auth_type": auth_type}
    if admins:
        auth["admins"] = [{"name": a} for a in admins]
    kim = {"name": "sqlite-manager", "manager_type": "SQLite",
           "sqlite_db_path": os.path.join(tmp, "kim.sqlite3")}
    kim.update(key_manager or {})
    provs = providers if providers is not None else [{"provider_type": "MbedCrypto"}]
    out = []
    for name, table in (("core_settings", core_t), ("listener", lis), ("authenticator", auth)):
        out.append(f"[{name}]")
        out += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    out.append("[[key_manager]]")
    out += [f"{k} = {toml_value(v)}" for k, v in kim.items()]
    for p in provs:
        out.append("[[provider]]")
        p = {"key_info_manager": "sqlite-manager", **p}
        out += [f"{k} = {toml_value(v)}" for k, v in p.items()]
    return "\n".join(out) + "\n"


class ServiceProcess:
    """A `pqparsec serve --config` child process with its own temp dir."""

    def __init__(self, tmp: str | None = None, env: dict[str, str] | None = None,
                 **config: Any) -> None:
        self.tmp = tmp or tempfile.mkdtemp(prefix="pqp-test-")
        self.config_kwargs = config
        self.config_path = os.path.join(self.tmp, "config.toml")
        self.socket_path = (config.get("listener") or {}).get(
            "socket_path", os.path.join(self.tmp, "parsec.sock"))
        self.log_path = os.path.join(self.tmp, "service.log")
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"unix:{self.socket_path}"

    def write_config(self, **overrides: Any) -> None:
        kwargs = {**self.config_kwargs, **overrides}
        Path(self.config_path).write_text(render_config(self.tmp, **kwargs))

    def start(self, timeout: float = 20.0, write_config: bool = True) -> ServiceProcess:
        if write_config:
            self.write_config()
        log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pqparsec", "serve", "--config", self.config_path],
            cwd=self.tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.log()}")
            # "listening on": with several workers, the supervisor logs it once all serve.
            if os.path.exists(self.socket_path) and "pqparsec listening on" in self.log():
                try:
                    if BasicClient(endpoint=self.endpoint, timeout=1.0).ping() == (1, 0):
                        return self
                except Exception:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"service did not start:\n{self.log()}")

    def client(self, app: str | None = None, **kw: Any) -> BasicClient:
        return BasicClient(app_name=app, endpoint=self.endpoint, timeout=kw.pop("timeout", 10.0),
                           **kw)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self, grace: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def raw(self, data: bytes, timeout: float = 5.0) -> tuple[RawHeader, bytes]:
        """Send raw bytes, read one response (header + body) until EOF."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket_path)
            s.sendall(data)
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        assert len(buf) >= HEADER_LEN, f"short response: {buf.hex()}"
        hdr = unpack_response(buf[:HEADER_LEN])
        return hdr, buf[HEADER_LEN:]


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy (returned) or raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value {last!r})")


def run_serve(config_path: str, timeout: float = 30.0,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `pqparsec serve --config` expecting it to exit by itself (a start-up failure)."""
    return subprocess.run([sys.executable, "-m", "pqparsec", "serve", "--config", config_path],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def load_mock_vectors() -> dict[str, tuple[bytes, bytes]]:
    """parsec-mock golden vectors: name -> (request bytes, response bytes)."""
    import base64
    import re
    out: dict[str, tuple[bytes, bytes]] = {}
    vdir = VECTORS / "parsec-mock" / "generator_output"
    for path in sorted(vdir.glob("*.test.yaml")):
        text = path.read_text()
        fields = dict(re.findall(r"^\s+(request|response|request_hex|response_hex): (\S+)\s*$",
                                 text, re.M))
        req, resp = bytes.fromhex(fields["request_hex"]), bytes.fromhex(fields["response_hex"])
        assert base64.b64decode(fields["request"]) == req, path
        assert base64.b64decode(fields["response"]) == resp, path
        out[path.name.removesuffix(".test.yaml")] = (req, resp)
    assert len(out) == 10, f"expected the 10 parsec-mock vectors in {vdir}, found {len(out)}"
    return out


def public_tmpdir(prefix: str = "pqp-") -> str:
    """A fresh directory under /tmp with mode 0755, reachable by every user (for sockets that
    other Unix users must connect to). The caller removes it."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d
