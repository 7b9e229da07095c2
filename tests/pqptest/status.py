"""Asserting the status of a refused request: the client raises ServiceError with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from pqparsec.client import ServiceError
from pqparsec.protocol.status import ResponseStatus


@contextmanager
def expect_status(status: ResponseStatus) -> Iterator[pytest.ExceptionInfo[ServiceError]]:
    """The block must raise the client's ServiceError with `status`:

        with expect_status(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST) as err:
            client.export_public_key("missing")
        # err.value is the ServiceError

    Any other exception, or none, fails the test as `pytest.raises` does; another status fails
    the assertion."""
    with pytest.raises(ServiceError) as info:
        yield info
    assert info.value.status == status, f"expected {status!r}, got {info.value.status!r}"


def raised_status(fn: Callable[..., object], *args: object) -> ResponseStatus:
    """The status of the ServiceError that `fn(*args)` must raise."""
    with pytest.raises(ServiceError) as err:
        fn(*args)
    return err.value.status
