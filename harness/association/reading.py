"""Tolerant reading of A-ASSOCIATE-RQ/AC layers: every oddity is recorded, none raises.

Missing, repeated, unknown and out-of-place items end up in :class:`Seen` (then
:class:`~harness.association.values.Irregularities`); PS3.8 9.3.1 says unrecognized items
are skipped, so reading goes on. The first of repeated items wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from scapy.packet import Packet

from harness.association.uids import DEFAULT_MAX_LENGTH, ContextResult
from harness.association.values import (
    CommonExtendedNegotiation,
    Irregularities,
    PresentationContext,
    PresentationContextResult,
    RoleSelection,
    UserIdentity,
)
from harness.pdu import (
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    AsyncOperationsWindowSubItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    MaximumLengthSubItem,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    SOPClassExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserInformationItem,
)


def read_text(value: bytes) -> str:
    """A UID or name as sent (latin-1 keeps every byte visible)."""
    return bytes(value).decode("latin-1")


def read_title(value: bytes) -> str:
    """An AE title without its non-significant leading and trailing spaces (Table 9-11)."""
    return read_text(value).strip(" ")


class Seen:
    """Collects :class:`Irregularities` while a PDU is read."""

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.duplicated: list[str] = []
        self.ignored: list[int] = []

    def first(self, what: str, values: Sequence[Packet]) -> Packet | None:
        """The first of ``values``, noting an absent or repeated ``what``."""
        if not values:
            self.missing.append(what)
            return None
        if len(values) > 1:
            self.duplicated.append(what)
        return values[0]

    def freeze(self) -> Irregularities:
        return Irregularities(tuple(self.missing), tuple(self.duplicated), tuple(self.ignored))


@dataclass(frozen=True)
class VariableItems:
    """The variable items of an RQ/AC, sorted: the context name, 20H/21H items, 50H data."""

    application_context_name: str
    contexts: list[Packet]
    user_data: list[Packet]


def read_variable_items(pkt: Packet, context_type: type[Packet], seen: Seen) -> VariableItems:
    """Sort the variable items of an RQ/AC (PS3.8 Tables 9-11, 9-17); skip the others."""
    names: list[Packet] = []
    contexts: list[Packet] = []
    infos: list[Packet] = []
    for item in pkt.variable_items:
        if isinstance(item, ApplicationContextItem):
            names.append(item)
        elif isinstance(item, context_type):
            contexts.append(item)
        elif isinstance(item, UserInformationItem):
            infos.append(item)
        else:
            seen.ignored.append(item.item_type)
    if not contexts:
        seen.missing.append("presentation-context")
    name = seen.first("application-context", names)
    info = seen.first("user-information", infos)
    return VariableItems(
        read_text(name.application_context_name) if name is not None else "",
        contexts,
        list(info.user_data) if info is not None else [],
    )


def _syntaxes(pc: Packet, seen: Seen) -> tuple[list[str], list[str]]:
    """The abstract and transfer syntax names in one context item; others are skipped."""
    abstract: list[str] = []
    transfer: list[str] = []
    for sub in pc.sub_items:
        if isinstance(sub, AbstractSyntaxSubItem):
            abstract.append(read_text(sub.abstract_syntax_name))
        elif isinstance(sub, TransferSyntaxSubItem):
            transfer.append(read_text(sub.transfer_syntax_name))
        else:
            seen.ignored.append(sub.item_type)
    return abstract, transfer


def read_proposals(items: list[Packet], seen: Seen) -> Iterator[PresentationContext]:
    """20H items (PS3.8 Table 9-13): one 30H, one or more 40H; PC-IDs unique."""
    ids: set[int] = set()
    for item in items:
        label = f"presentation-context {item.pc_id}"
        if item.pc_id in ids:
            seen.duplicated.append(label)
        ids.add(item.pc_id)
        abstract, transfer = _syntaxes(item, seen)
        if not abstract:
            seen.missing.append(f"abstract-syntax in {label}")
        elif len(abstract) > 1:
            seen.duplicated.append(f"abstract-syntax in {label}")
        if not transfer:
            seen.missing.append(f"transfer-syntax in {label}")
        yield PresentationContext(item.pc_id, abstract[0] if abstract else "", tuple(transfer))


def read_results(items: list[Packet], seen: Seen) -> Iterator[PresentationContextResult]:
    """21H items (PS3.8 Table 9-18): one 40H, significant only on acceptance."""
    ids: set[int] = set()
    for item in items:
        label = f"presentation-context {item.pc_id}"
        if item.pc_id in ids:
            seen.duplicated.append(label)
        ids.add(item.pc_id)
        abstract, transfer = _syntaxes(item, seen)
        seen.ignored.extend(0x30 for _ in abstract)
        if not transfer and item.result_reason == ContextResult.ACCEPTANCE:
            seen.missing.append(f"transfer-syntax in {label}")
        yield PresentationContextResult(
            item.pc_id, item.result_reason, transfer[0] if transfer else ""
        )


RQ_USER_DATA: Final = frozenset(
    {
        MaximumLengthSubItem,
        ImplementationClassUIDSubItem,
        AsyncOperationsWindowSubItem,
        RoleSelectionSubItem,
        ImplementationVersionNameSubItem,
        SOPClassExtendedNegotiationSubItem,
        SOPClassCommonExtendedNegotiationSubItem,
        UserIdentityRQSubItem,
    }
)
"""Sub-items an RQ may carry (PS3.7 Table D.3-1 ff.); 59H there is out of place."""

AC_USER_DATA: Final = (
    RQ_USER_DATA - {SOPClassCommonExtendedNegotiationSubItem, UserIdentityRQSubItem}
) | {UserIdentityACSubItem}
"""Sub-items an AC may carry: no 57H (PS3.7 D.3.3.6) and no 58H."""


class UserData:
    """The sub-items of one 50H item, read tolerantly (PS3.8 D.1; PS3.7 D.3.3)."""

    def __init__(self, sub_items: list[Packet], allowed: frozenset[type[Packet]], seen: Seen):
        by_type: dict[type[Packet], list[Packet]] = {cls: [] for cls in allowed}
        for sub in sub_items:
            if type(sub) in by_type:
                by_type[type(sub)].append(sub)
            else:
                seen.ignored.append(sub.item_type)

        def one(cls: type[Packet], what: str, *, required: bool = False) -> Packet | None:
            found = by_type.get(cls, [])
            return seen.first(what, found) if required or found else None

        length = one(MaximumLengthSubItem, "maximum-length", required=True)
        uid = one(ImplementationClassUIDSubItem, "implementation-class-uid", required=True)
        window = one(AsyncOperationsWindowSubItem, "asynchronous-operations-window")
        version = one(ImplementationVersionNameSubItem, "implementation-version-name")
        identity = one(UserIdentityRQSubItem, "user-identity")
        response = one(UserIdentityACSubItem, "user-identity")

        self.max_length: int = length.max_length if length is not None else DEFAULT_MAX_LENGTH
        self.implementation_class_uid = (
            read_text(uid.implementation_class_uid) if uid is not None else ""
        )
        self.implementation_version_name = (
            read_text(version.implementation_version_name) if version is not None else None
        )
        self.async_ops_window = (
            (window.max_ops_invoked, window.max_ops_performed) if window is not None else None
        )
        self.role_selections = tuple(
            RoleSelection(read_text(sub.sop_class_uid), sub.scu_role, sub.scp_role)
            for sub in _one_per_uid(by_type.get(RoleSelectionSubItem, []), "role-selection", seen)
        )
        self.extended_negotiation = tuple(
            (read_text(sub.sop_class_uid), bytes(sub.service_class_application_information))
            for sub in _one_per_uid(
                by_type.get(SOPClassExtendedNegotiationSubItem, []), "extended-negotiation", seen
            )
        )
        self.common_extended_negotiation = tuple(
            CommonExtendedNegotiation(
                read_text(sub.sop_class_uid),
                read_text(sub.service_class_uid),
                tuple(
                    read_text(entry.related_general_sop_class_uid)
                    for entry in sub.related_general_sop_class_identification
                ),
            )
            for sub in _one_per_uid(
                by_type.get(SOPClassCommonExtendedNegotiationSubItem, []),
                "common-extended-negotiation",
                seen,
            )
        )
        self.user_identity = (
            UserIdentity(
                identity.user_identity_type,
                bool(identity.positive_response_requested),
                bytes(identity.primary_field),
                bytes(identity.secondary_field),
            )
            if identity is not None
            else None
        )
        self.user_identity_response = (
            bytes(response.server_response) if response is not None else None
        )


def _one_per_uid(subs: list[Packet], what: str, seen: Seen) -> list[Packet]:
    """54H, 56H, 57H: at most one per SOP class UID (PS3.7 D.3.3.4-6); the first wins."""
    firsts: dict[bytes, Packet] = {}
    for sub in subs:
        uid = bytes(sub.sop_class_uid)
        if uid in firsts:
            seen.duplicated.append(f"{what} {read_text(uid)}")
        else:
            firsts[uid] = sub
    return list(firsts.values())
