"""The acceptor's side of negotiation (PS3.8 7.1.1, 9.3.3-9.3.4; PS3.7 Annex D.3):
:func:`negotiate` from an :class:`AcceptorPolicy`, and :func:`accepted_contexts`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from harness.association.primitives import (
    APPLICATION_CONTEXT_NOT_SUPPORTED,
    CALLED_AE_NOT_RECOGNIZED,
    CALLING_AE_NOT_RECOGNIZED,
    LOCAL_LIMIT_EXCEEDED,
    PROTOCOL_VERSION_NOT_SUPPORTED,
    USER_IDENTITY_NOT_AUTHORIZED,
    AssociateAC,
    AssociateRQ,
    Rejection,
)
from harness.association.uids import (
    DEFAULT_MAX_LENGTH,
    DICOM_APPLICATION_CONTEXT,
    HARNESS_IMPLEMENTATION_CLASS_UID,
    HARNESS_IMPLEMENTATION_VERSION_NAME,
    ContextResult,
)
from harness.association.values import (
    PresentationContext,
    PresentationContextResult,
    RoleSelection,
    UserIdentity,
)


@dataclass(frozen=True)
class AcceptorPolicy:
    """What an acceptor supports, for :func:`negotiate`.

    - ``abstract_syntaxes``: SOP class UID -> the transfer syntaxes supported for it.
    - ``async_ops_window``: the (invoked, performed) window supported, 0 = unlimited;
      None: the 53H sub-item is not supported and never answered.
    - ``role_selection``: SOP class UID -> (SCU, SCP) roles the requestor may take (1 =
      allowed); a UID not listed is not answered (default roles apply, PS3.7 D.3.3.4).
    - ``user_identity_types``: 58H types handled; others are ignored (PS3.7 D.3.3.7).
      ``user_identities``: the accepted (primary, secondary) fields, which makes identity
      mandatory; None accepts any identity of a handled type.
    - ``extended_negotiation``: SOP class UID -> the 56H answer sent when it is proposed.
    """

    ae_title: str
    abstract_syntaxes: Mapping[str, tuple[str, ...]]
    check_called_ae: bool = True
    allowed_calling_ae_titles: frozenset[str] | None = None
    application_context_names: frozenset[str] = frozenset({DICOM_APPLICATION_CONTEXT})
    max_length: int = DEFAULT_MAX_LENGTH
    implementation_class_uid: str = HARNESS_IMPLEMENTATION_CLASS_UID
    implementation_version_name: str | None = HARNESS_IMPLEMENTATION_VERSION_NAME
    async_ops_window: tuple[int, int] | None = None
    role_selection: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    user_identity_types: frozenset[int] = frozenset()
    user_identities: frozenset[tuple[bytes, bytes]] | None = None
    extended_negotiation: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))


def negotiate(
    rq: AssociateRQ, policy: AcceptorPolicy, *, association_limit_reached: bool = False
) -> AssociateAC | Rejection:
    """The acceptor's answer to ``rq`` (PS3.8 7.1.1, 9.3.3-9.3.4; PS3.7 Annex D.3).

    Rejections, first match: protocol version without bit 0 (1/2/2); the association
    limit, decided by the caller (2/3/2); an application context name not supported
    (1/1/2); the called AE title (1/1/7, when checked); the calling AE title (1/1/3, when
    a list is given); an identity not authorized (1/2/1, PS3.7 D.3.3.7.3).

    Otherwise an AC with exactly one result per proposed presentation-context ID, and
    answers only to what was proposed (PS3.7 D.3.3: an acceptor never sends a response
    sub-item that was not solicited). Unknown sub-items were already set aside by
    ``from_packet`` and play no part.
    """
    rejection = _rejection(rq, policy, association_limit_reached=association_limit_reached)
    if rejection is not None:
        return rejection
    return AssociateAC(
        called_ae_title=rq.called_ae_title,
        calling_ae_title=rq.calling_ae_title,
        results=tuple(_context_result(pc, policy) for pc in _first_by(rq.presentation_contexts)),
        max_length=policy.max_length,
        implementation_class_uid=policy.implementation_class_uid,
        implementation_version_name=policy.implementation_version_name,
        async_ops_window=_async_answer(rq.async_ops_window, policy.async_ops_window),
        role_selections=tuple(_role_answers(rq.role_selections, policy.role_selection)),
        user_identity_response=_identity_response(rq.user_identity, policy),
        extended_negotiation=tuple(
            (uid, policy.extended_negotiation[uid])
            for uid, _ in rq.extended_negotiation
            if uid in policy.extended_negotiation
        ),
        application_context_name=rq.application_context_name,
    )


def accepted_contexts(rq: AssociateRQ, ac: AssociateAC) -> dict[int, tuple[str, str]]:
    """PC-ID -> (abstract syntax, transfer syntax) of every context usable after ``ac``.

    A context is usable when it was proposed, its result is acceptance, and the transfer
    syntax is one of those proposed for it (PS3.8 7.1.1.14); a result breaking these rules
    is left out rather than trusted.
    """
    proposed = {pc.id: pc for pc in _first_by(rq.presentation_contexts)}
    usable: dict[int, tuple[str, str]] = {}
    for result in _first_by(ac.results):
        pc = proposed.get(result.id)
        if (
            pc is not None
            and result.result == ContextResult.ACCEPTANCE
            and result.transfer_syntax in pc.transfer_syntaxes
        ):
            usable[result.id] = (pc.abstract_syntax, result.transfer_syntax)
    return usable


def _rejection(
    rq: AssociateRQ, policy: AcceptorPolicy, *, association_limit_reached: bool
) -> Rejection | None:
    """The first rejection that applies, in the order :func:`negotiate` documents."""
    if not rq.protocol_version & 1:
        return PROTOCOL_VERSION_NOT_SUPPORTED
    if association_limit_reached:
        return LOCAL_LIMIT_EXCEEDED
    if rq.application_context_name not in policy.application_context_names:
        return APPLICATION_CONTEXT_NOT_SUPPORTED
    if policy.check_called_ae and rq.called_ae_title != policy.ae_title:
        return CALLED_AE_NOT_RECOGNIZED
    allowed = policy.allowed_calling_ae_titles
    if allowed is not None and rq.calling_ae_title not in allowed:
        return CALLING_AE_NOT_RECOGNIZED
    if policy.user_identities is not None and not _identity_authorized(rq.user_identity, policy):
        return USER_IDENTITY_NOT_AUTHORIZED
    return None


def _identity_handled(identity: UserIdentity | None, policy: AcceptorPolicy) -> bool:
    """A 58H of a type the policy handles; others are ignored (PS3.7 D.3.3.7)."""
    return identity is not None and identity.type in policy.user_identity_types


def _identity_authorized(identity: UserIdentity | None, policy: AcceptorPolicy) -> bool:
    """An enforced identity: handled, and its fields among ``policy.user_identities``."""
    return (
        identity is not None
        and _identity_handled(identity, policy)
        and (identity.primary, identity.secondary) in (policy.user_identities or ())
    )


def _identity_response(identity: UserIdentity | None, policy: AcceptorPolicy) -> bytes | None:
    """59H only when a positive response was requested and the identity accepted.

    The server response is empty: PS3.7 Table D.3-15 gives it content only for Kerberos
    and SAML, which this model does not verify.
    """
    if identity is not None and identity.positive_response_requested:
        return b"" if _identity_handled(identity, policy) else None
    return None


def _context_result(pc: PresentationContext, policy: AcceptorPolicy) -> PresentationContextResult:
    """PS3.8 Table 9-18 for one context; an accepted one gets the first TS proposed that
    is supported (PS3.7 D.3.2). The 40H of a rejected context is not significant: it
    carries the first TS proposed, if any. An even PC-ID breaks Table 9-13: result 2."""
    echoed = pc.transfer_syntaxes[0] if pc.transfer_syntaxes else ""
    if pc.id % 2 == 0:
        return PresentationContextResult(pc.id, ContextResult.NO_REASON, echoed)
    supported = policy.abstract_syntaxes.get(pc.abstract_syntax)
    if supported is None:
        return PresentationContextResult(pc.id, ContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED, echoed)
    for transfer_syntax in pc.transfer_syntaxes:
        if transfer_syntax in supported:
            return PresentationContextResult(pc.id, ContextResult.ACCEPTANCE, transfer_syntax)
    return PresentationContextResult(pc.id, ContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED, echoed)


def _bounded(offer: int, ours: int) -> int:
    """One field of the async window (PS3.7 D.3.3.3): never above the offer, 0 = unlimited."""
    if offer == 0:
        return ours
    if ours == 0:
        return offer
    return min(offer, ours)


def _async_answer(
    offer: tuple[int, int] | None, ours: tuple[int, int] | None
) -> tuple[int, int] | None:
    """No 53H in the AC unless proposed and supported (PS3.7 D.3.3.3)."""
    if offer is None or ours is None:
        return None
    return _bounded(offer[0], ours[0]), _bounded(offer[1], ours[1])


def _role_answers(
    proposals: Sequence[RoleSelection], support: Mapping[str, tuple[int, int]]
) -> Iterator[RoleSelection]:
    """One 54H per proposed SOP class the policy knows (PS3.7 D.3.3.4).

    A role is answered 1 only when proposed as 1 and allowed: never 1 for a role offered
    as 0 (nor for a reserved value).
    """
    for proposal in _first_by(proposals):
        allowed = support.get(proposal.sop_class_uid)
        if allowed is None:
            continue
        yield RoleSelection(
            proposal.sop_class_uid,
            int(proposal.scu_role == 1 and bool(allowed[0])),
            int(proposal.scp_role == 1 and bool(allowed[1])),
        )


_Keyed = TypeVar("_Keyed", PresentationContext, PresentationContextResult, RoleSelection)


def _key(value: PresentationContext | PresentationContextResult | RoleSelection) -> object:
    """What must be unique: the PC-ID, or the SOP class UID of a role selection."""
    return value.sop_class_uid if isinstance(value, RoleSelection) else value.id


def _first_by(values: Iterable[_Keyed]) -> list[_Keyed]:
    """The first of the values sharing a key (PC-ID, SOP class UID), in order."""
    seen: set[object] = set()
    firsts: list[_Keyed] = []
    for value in values:
        key = _key(value)
        if key not in seen:
            seen.add(key)
            firsts.append(value)
    return firsts
