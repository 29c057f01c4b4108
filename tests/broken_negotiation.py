"""Deliberately broken built-in peers for the negotiation scenarios (see broken_peers.py)."""

from __future__ import annotations

from collections.abc import Mapping

from harness.reference import AcceptorProtocol
from harness.results import Verdict

#: Each broken peer, and the verdict of every scenario it must not pass.
BREAKS: Mapping[type[AcceptorProtocol], Mapping[str, Verdict]] = {}
