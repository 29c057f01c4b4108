"""The leaf values of association negotiation (PS3.8 9.3.2-9.3.3; PS3.7 Annex D.3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PresentationContext:
    """A proposed presentation context, item 20H (PS3.8 Table 9-13)."""

    id: int
    abstract_syntax: str
    transfer_syntaxes: tuple[str, ...]


@dataclass(frozen=True)
class PresentationContextResult:
    """The answer to one presentation context, item 21H (PS3.8 Table 9-18).

    ``result`` is a :class:`ContextResult` code; ``transfer_syntax`` is significant only
    when the context is accepted.
    """

    id: int
    result: int
    transfer_syntax: str


@dataclass(frozen=True)
class RoleSelection:
    """SCP/SCU Role Selection, sub-item 54H (PS3.7 D.3.3.4): 1 = role proposed/accepted."""

    sop_class_uid: str
    scu_role: int
    scp_role: int


@dataclass(frozen=True)
class UserIdentity:
    """User Identity negotiation, sub-item 58H (PS3.7 D.3.3.7, Table D.3-14).

    ``type``: 1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT.
    """

    type: int
    positive_response_requested: bool
    primary: bytes
    secondary: bytes = b""


@dataclass(frozen=True)
class CommonExtendedNegotiation:
    """SOP Class Common Extended Negotiation, sub-item 57H, RQ only (PS3.7 D.3.3.6)."""

    sop_class_uid: str
    service_class_uid: str
    related_general_sop_classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Irregularities:
    """What ``from_packet`` saw that a well-formed PDU would not have.

    ``missing``/``duplicated`` name items by their PS3.8 name (``"maximum-length"``,
    ``"presentation-context 3"``...); ``ignored_items`` lists the item types skipped as
    unknown or out of place (PS3.8 9.3.1: unrecognized items are ignored).
    """

    missing: tuple[str, ...] = ()
    duplicated: tuple[str, ...] = ()
    ignored_items: tuple[int, ...] = ()

    @property
    def clean(self) -> bool:
        """Nothing missing, repeated or ignored."""
        return not (self.missing or self.duplicated or self.ignored_items)
