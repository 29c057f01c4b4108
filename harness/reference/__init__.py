"""The built-in reference peer: a conformant DICOM UL acceptor (SCP) and requestor (SCU).

Driven by :mod:`harness.fsm` (PS3.8 Table 9-10 is the single source of truth for what it
does on every event) and :mod:`harness.association` (PS3.7 Annex D.3 negotiation). It is
used in-process by the tests, as ``--peer builtin`` and by the simulator.

Layout, one job per module:

- :mod:`.config`: :class:`ReferenceConfig`, what it supports and its timers;
  :func:`config_from_mapping` reads a peer profile's ``builtin:`` section.
- :mod:`.core`: :class:`ULProtocol`, the sans-I/O machine (h11 style): inputs are method
  calls (``receive(raw)``, ``transport_closed()``, ``artim_expired()``, ``timed_out()``,
  ``release()``, ``abort()``, ``user_turn()``), each returning the outputs to carry out in
  order: :class:`Send`, :class:`CloseTransport`, :class:`OpenTransport`,
  :class:`StartArtim`, :class:`StopArtim`, :class:`AwaitUser` (its user answers later,
  ``config.user_delay``). No socket, thread or clock inside.
- :mod:`.acceptor` / :mod:`.requestor`: :class:`AcceptorProtocol` (``connection_made()``)
  and :class:`RequestorProtocol` (``associate()``, ``connection_made()``, ``echo()``,
  ``store(ds)``).
- :mod:`.services`: the C-ECHO and C-STORE SCP answers.
- :mod:`.link`: the socket loop, every read bounded by ARTIM or ``idle_timeout``.
- :mod:`.server`: :class:`ReferenceServer`, a thread per connection;
  :mod:`.client`: :func:`run_requestor`.

Deliberately broken peers
-------------------------
The product code has no fault flags. Each decision the state table leaves to the entity
is a small public method; a broken peer for a test is a subclass overriding exactly one:

- ``classify(raw)`` (which event a PDU is) and ``on_pdu(inbound)`` (reacting to it),
- ``on_artim_expired()``, ``on_timeout()``, ``on_release_indication()``, ``on_user_turn()``,
  ``on_message(m)``,
- ``abort_source_for(transition)``, ``abort_reason_for(transition, inbound)``,
- acceptor: ``negotiate(rq)``, ``build_ac(ac, rq_packet)``, ``build_rj(rejection)``;
  requestor: ``build_rq()``.

``emit(output)`` queues an output outside the table (e.g. a PDU the table forbids).
Example, a peer that never closes after ARTIM in Sta13::

    class IgnoresArtimInSta13(AcceptorProtocol):
        def on_artim_expired(self) -> None:
            if self.state is not State.STA13:
                super().on_artim_expired()

    with ReferenceServer(config, protocol_factory=IgnoresArtimInSta13) as server: ...
"""

from harness.reference.acceptor import AcceptorProtocol
from harness.reference.client import Echo, Request, RequestorRun, Store, run_requestor
from harness.reference.config import ReferenceConfig, config_from_mapping
from harness.reference.core import (
    AwaitUser,
    CloseTransport,
    Defect,
    Inbound,
    OpenTransport,
    Output,
    Send,
    StartArtim,
    StopArtim,
    ULProtocol,
)
from harness.reference.requestor import NoContextError, RequestorProtocol
from harness.reference.server import AcceptorFactory, AssociationRecord, ReferenceServer
from harness.reference.services import StoredInstance

__all__ = [
    "AcceptorFactory",
    "AcceptorProtocol",
    "AssociationRecord",
    "AwaitUser",
    "CloseTransport",
    "Defect",
    "Echo",
    "Inbound",
    "NoContextError",
    "OpenTransport",
    "Output",
    "ReferenceConfig",
    "ReferenceServer",
    "Request",
    "RequestorProtocol",
    "RequestorRun",
    "Send",
    "StartArtim",
    "StopArtim",
    "Store",
    "StoredInstance",
    "ULProtocol",
    "config_from_mapping",
    "run_requestor",
]
