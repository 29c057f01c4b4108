"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.reference import ReferenceServer


@pytest.fixture
def reference_scp() -> Iterator[tuple[str, int]]:
    """The (host, port) of a started built-in reference SCP with the default config."""
    with ReferenceServer() as server:
        yield server.address
