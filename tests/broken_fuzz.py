"""A planted defect for the fuzzer to find (tests/test_fuzz.py).

One decision of :class:`harness.reference.AcceptorProtocol` altered, as in
:mod:`tests.broken_peers`: an unknown PDU type during the association is dropped instead
of answered with a provider A-ABORT (Sta6, Evt19, AA-8), so the peer hangs there.
"""

from __future__ import annotations

from harness.fsm import PDU_TYPES, State
from harness.reference import AcceptorProtocol, Inbound


class HangsOnUnknownPduInSta6(AcceptorProtocol):
    """Ignores a PDU of an unknown type in Sta6 (AA-8 wants an A-ABORT and Sta13)."""

    def on_pdu(self, inbound: Inbound) -> None:
        if self.state is State.STA6 and inbound.raw[:1] and inbound.raw[0] not in PDU_TYPES:
            return
        super().on_pdu(inbound)
