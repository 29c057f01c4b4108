"""Configuration of the built-in reference peer, and the negotiation policy it implies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from harness.association import (
    CT_IMAGE_STORAGE,
    DEFAULT_MAX_LENGTH,
    EXPLICIT_VR_LITTLE_ENDIAN,
    HARNESS_IMPLEMENTATION_CLASS_UID,
    HARNESS_IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    VERIFICATION_SOP_CLASS,
    AcceptorPolicy,
    AssociateRQ,
    PresentationContext,
)

DEFAULT_ARTIM = 5.0
"""Seconds; PS3.8 9.1.5 wants ARTIM configurable and sets no default."""


@dataclass(frozen=True)
class ReferenceConfig:
    """How the reference peer behaves as acceptor (SCP) and requestor (SCU).

    - ``ae_title``: its own title; as acceptor the called title must match it when
      ``check_called_ae`` (PS3.8 7.1.1.3), as requestor it is the calling title.
    - ``allowed_calling_ae_titles``: None accepts any calling title (PS3.8 7.1.1.4).
    - ``abstract_syntaxes`` x ``transfer_syntaxes``: what it accepts, and proposes.
    - ``max_length``: the maximum P-DATA-TF PDU-length it receives (PS3.8 D.1; 0 = none).
    - ``async_ops_window``: the window it grants as acceptor, None = 53H unsupported.
    - ``role_selection``: answer 54H: the requestor may be SCU (1), never SCP (0).
    - ``user_identity_types`` / ``user_identities``: see
      :class:`harness.association.AcceptorPolicy`.
    - ``artim``: ARTIM seconds (PS3.8 9.1.5); ``idle_timeout``: how long it waits for
      anything when ARTIM is not running, after which it aborts (PS3.8 9.1.4 note 2).
    - ``max_associations``: concurrent connections before it rejects with 2/3/2.
    - ``user_delay``: seconds its user takes to answer an A-ASSOCIATE or A-RELEASE
      indication (Sta3, Sta8; Sta9 and Sta12 in a release collision) while its provider
      reads on (PS3.8 9.2.1); 0 answers at once.
    - ``release_after``: as acceptor, seconds after the association is established at
      which its user releases it (A-RELEASE-RQ, PS3.8 7.2); None never does.
    """

    ae_title: str = "HARNESS-SCP"
    check_called_ae: bool = True
    allowed_calling_ae_titles: frozenset[str] | None = None
    abstract_syntaxes: tuple[str, ...] = (
        VERIFICATION_SOP_CLASS,
        CT_IMAGE_STORAGE,
        SECONDARY_CAPTURE_IMAGE_STORAGE,
    )
    transfer_syntaxes: tuple[str, ...] = (IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN)
    max_length: int = DEFAULT_MAX_LENGTH
    async_ops_window: tuple[int, int] | None = (5, 5)
    role_selection: bool = True
    user_identity_types: frozenset[int] = frozenset({1, 2})
    user_identities: frozenset[tuple[bytes, bytes]] | None = None
    artim: float = DEFAULT_ARTIM
    idle_timeout: float = 60.0
    max_associations: int = 16
    user_delay: float = 0.0
    release_after: float | None = None
    implementation_class_uid: str = HARNESS_IMPLEMENTATION_CLASS_UID
    implementation_version_name: str | None = HARNESS_IMPLEMENTATION_VERSION_NAME

    def policy(self) -> AcceptorPolicy:
        """The acceptor policy for :func:`harness.association.negotiate`."""
        roles = dict.fromkeys(self.abstract_syntaxes, (1, 0)) if self.role_selection else {}
        return AcceptorPolicy(
            ae_title=self.ae_title,
            abstract_syntaxes=MappingProxyType(
                dict.fromkeys(self.abstract_syntaxes, self.transfer_syntaxes)
            ),
            check_called_ae=self.check_called_ae,
            allowed_calling_ae_titles=self.allowed_calling_ae_titles,
            max_length=self.max_length,
            implementation_class_uid=self.implementation_class_uid,
            implementation_version_name=self.implementation_version_name,
            async_ops_window=self.async_ops_window,
            role_selection=MappingProxyType(roles),
            user_identity_types=self.user_identity_types,
            user_identities=self.user_identities,
        )

    def associate_rq(
        self, called_ae_title: str, async_ops_window: tuple[int, int] | None = None
    ) -> AssociateRQ:
        """The RQ it sends as requestor: one context per abstract syntax (IDs 1, 3, 5...),
        each with every transfer syntax; no role selection or user identity (it is the
        SCU), and a 53H (PS3.7 D.3.3.3) only when an ``async_ops_window`` (invoked,
        performed) is given: without one it invokes one operation at a time."""
        return AssociateRQ(
            called_ae_title=called_ae_title,
            calling_ae_title=self.ae_title,
            presentation_contexts=tuple(
                PresentationContext(2 * index + 1, uid, self.transfer_syntaxes)
                for index, uid in enumerate(self.abstract_syntaxes)
            ),
            max_length=self.max_length,
            implementation_class_uid=self.implementation_class_uid,
            implementation_version_name=self.implementation_version_name,
            async_ops_window=async_ops_window,
        )


def _window(value: Any) -> tuple[int, int] | None:
    return None if value is None else (int(value[0]), int(value[1]))


def _titles(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(str(title) for title in value)


def _identities(value: Any) -> frozenset[tuple[bytes, bytes]] | None:
    if value is None:
        return None
    return frozenset(
        (str(primary).encode(), str(secondary).encode()) for primary, secondary in value
    )


_CONVERTERS: Mapping[str, Callable[[Any], Any]] = {
    "allowed_calling_ae_titles": _titles,
    "abstract_syntaxes": lambda value: tuple(str(uid) for uid in value),
    "transfer_syntaxes": lambda value: tuple(str(uid) for uid in value),
    "async_ops_window": _window,
    "user_identity_types": lambda value: frozenset(int(kind) for kind in value),
    "user_identities": _identities,
}
"""YAML/JSON values (lists, strings) to the field types of :class:`ReferenceConfig`."""


def config_from_mapping(ae_title: str, settings: Mapping[str, Any]) -> ReferenceConfig:
    """A config from a peer profile's ``builtin:`` section (field name -> plain value).

    ``user_identities`` is a list of [primary, secondary] strings. An unknown name raises
    ``ValueError`` naming it.
    """
    names = {f.name for f in fields(ReferenceConfig)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise ValueError(f"unknown built-in peer settings: {', '.join(unknown)}")
    values = {
        name: _CONVERTERS.get(name, lambda value: value)(value) for name, value in settings.items()
    }
    return ReferenceConfig(**{"ae_title": ae_title, **values})
