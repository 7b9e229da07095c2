"""Start-up of the TPM provider: Parsec's config keys, an absent TPM, hierarchy authorisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pqptest.service import ServiceProcess
from pqptest.swtpm import Swtpm, free_port_pair, require_swtpm

from pqparsec.service.config import ConfigError, parse
from pqparsec.service.providers.tpm.config import (
    DEFAULT_TCTI,
    TpmSettings,
    parse_auth,
    parse_settings,
)


def settings(**table: object) -> TpmSettings:
    cfg = parse({"listener": {}, "key_manager": [{"name": "k"}],
                 "provider": [{"provider_type": "Tpm", **table}]}, "test.toml", "/")
    return parse_settings(cfg.providers[0], cfg)


def test_auth_forms() -> None:
    assert parse_auth("str:abc", "w") == b"abc"
    assert parse_auth("hex:00ff10", "w") == b"\x00\xff\x10"
    assert parse_auth("plain", "w") == b"plain"
    assert parse_auth("", "w") == b""
    with pytest.raises(ConfigError, match="hexadecimal"):
        parse_auth("hex:xyz", "w")


def test_settings() -> None:
    s = settings()
    assert s.tcti == DEFAULT_TCTI and s.owner_auth == b"" and not s.skip_if_no_tpm
    assert s.resource_managed
    s = settings(tcti="swtpm:host=127.0.0.1,port=2321", owner_hierarchy_auth="hex:0a0b",
                 endorsement_hierarchy_auth="str:e", skip_if_no_tpm=True)
    assert (s.owner_auth, s.endorsement_auth, s.skip_if_no_tpm) == (b"\n\x0b", b"e", True)
    assert not s.resource_managed
    assert "0a0b" not in repr(s)  # secrets stay out of logs
    with pytest.raises(ConfigError, match=r"unknown key.*root_key"):
        settings(root_key="x")
    with pytest.raises(ConfigError, match="tcti"):
        settings(tcti="bluetooth:tpm")
    with pytest.raises(ConfigError, match="skip_if_no_tpm"):
        settings(skip_if_no_tpm="yes")


def start_fails(tmp: str, providers: list[dict[str, object]]) -> str:
    svc = ServiceProcess(tmp, auth_type="Direct", providers=providers)
    with pytest.raises(RuntimeError) as exc:
        svc.start()
    return str(exc.value)


def test_unreachable_tpm_fails_startup_naming_the_tcti(tmp_path: Path) -> None:
    require_swtpm()  # for tpm2-pytss: without it the message names the missing package
    port = free_port_pair()
    tcti = f"swtpm:host=127.0.0.1,port={port}"
    out = start_fails(str(tmp_path), [{"provider_type": "Tpm", "tcti": tcti}])
    assert tcti in out
    out = start_fails(str(tmp_path), [{"provider_type": "Tpm", "tcti": "device:/dev/no-such-tpm"}])
    assert "device:/dev/no-such-tpm" in out


def test_skip_if_no_tpm(tmp_path: Path) -> None:
    require_swtpm()
    tcti = f"swtpm:host=127.0.0.1,port={free_port_pair()}"
    svc = ServiceProcess(str(tmp_path), auth_type="Direct",
                         providers=[{"provider_type": "Tpm", "tcti": tcti, "skip_if_no_tpm": True},
                                    {"provider_type": "MbedCrypto"}])
    svc.start()
    try:
        assert [p.id for p in svc.client("a").list_providers()] == [1, 0]
        assert "skip_if_no_tpm" in svc.log() and tcti in svc.log()
    finally:
        svc.stop()
    out = start_fails(str(tmp_path), [{"provider_type": "Tpm", "tcti": tcti,
                                       "skip_if_no_tpm": True}])
    assert "no provider" in out


@pytest.fixture
def owned_swtpm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swtpm]:
    """A swtpm whose owner hierarchy has an authorisation value ("s3cret")."""
    require_swtpm()
    from tpm2_pytss import ESAPI
    from tpm2_pytss.constants import ESYS_TR
    tpm = Swtpm(str(tmp_path_factory.mktemp("owned"))).start()
    with ESAPI(tpm.tcti) as ctx:
        ctx.hierarchy_change_auth(ESYS_TR.OWNER, b"s3cret")
    yield tpm
    tpm.stop()


def lockout_counter(tpm: Swtpm) -> int:
    from tpm2_pytss import ESAPI
    from tpm2_pytss.constants import TPM2_CAP, TPM2_PT
    with ESAPI(tpm.tcti) as ctx:
        _, data = ctx.get_capability(TPM2_CAP.TPM_PROPERTIES, int(TPM2_PT.LOCKOUT_COUNTER), 1)
        return int(data.data.tpmProperties[0].value)


def test_owner_hierarchy_auth(owned_swtpm: Swtpm, tmp_path: Path) -> None:
    out = start_fails(str(tmp_path), [owned_swtpm.table(owner_hierarchy_auth="str:wrong")])
    assert "owner_hierarchy_auth" in out
    for form in ("str:s3cret", "hex:" + b"s3cret".hex()):
        svc = ServiceProcess(str(tmp_path), auth_type="Direct",
                             providers=[owned_swtpm.table(owner_hierarchy_auth=form)])
        svc.start()
        try:
            assert len(svc.client("a", provider=3).generate_random(4)) == 4
        finally:
            svc.stop()
    assert lockout_counter(owned_swtpm) == 0  # wrong hierarchy auths burnt no DA tries
