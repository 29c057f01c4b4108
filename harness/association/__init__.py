"""The association negotiation model: what an A-ASSOCIATE-RQ proposes and an -AC answers.

Pure data, no I/O (PS3.8 section 7.1, 9.3.2-9.3.4, Annex D; PS3.7 Annex D.3):

- :class:`AssociateRQ` and :class:`AssociateAC` are frozen dataclasses of the negotiated
  values; ``build()`` turns them into :mod:`harness.pdu` layers and ``from_packet()`` reads
  a dissected PDU back. Reading is tolerant: a missing, repeated or unknown item is not an
  error but is recorded in :class:`Irregularities`, for the caller (the reference peer, a
  scenario) to judge. AE titles are read with their leading and trailing spaces stripped
  (PS3.8 Table 9-11: non-significant); UIDs are read as sent.
- :class:`Rejection` is an A-ASSOCIATE-RJ result/source/reason triple (PS3.8 Table 9-21).
- :func:`negotiate` is the acceptor's decision (PS3.7 Annex D.3) from an
  :class:`AcceptorPolicy`; :func:`accepted_contexts` is what both sides may then use.

Modules: :mod:`.uids` (UIDs, codes), :mod:`.values` (the leaf values), :mod:`.primitives`
(RQ, AC, RJ), :mod:`.reading` (the tolerant reader behind ``from_packet``) and
:mod:`.negotiation`. Import from this package.
"""

from harness.association.negotiation import AcceptorPolicy, accepted_contexts, negotiate
from harness.association.primitives import (
    APPLICATION_CONTEXT_NOT_SUPPORTED,
    CALLED_AE_NOT_RECOGNIZED,
    CALLING_AE_NOT_RECOGNIZED,
    LOCAL_LIMIT_EXCEEDED,
    NO_REASON_GIVEN,
    PROTOCOL_VERSION_NOT_SUPPORTED,
    USER_IDENTITY_NOT_AUTHORIZED,
    AssociateAC,
    AssociateRQ,
    Rejection,
)
from harness.association.uids import (
    CT_IMAGE_STORAGE,
    DEFAULT_MAX_LENGTH,
    DICOM_APPLICATION_CONTEXT,
    EXPLICIT_VR_LITTLE_ENDIAN,
    HARNESS_IMPLEMENTATION_CLASS_UID,
    HARNESS_IMPLEMENTATION_VERSION_NAME,
    IMPLICIT_VR_LITTLE_ENDIAN,
    SECONDARY_CAPTURE_IMAGE_STORAGE,
    VERIFICATION_SOP_CLASS,
    ContextResult,
)
from harness.association.values import (
    CommonExtendedNegotiation,
    Irregularities,
    PresentationContext,
    PresentationContextResult,
    RoleSelection,
    UserIdentity,
)

__all__ = [
    "APPLICATION_CONTEXT_NOT_SUPPORTED",
    "CALLED_AE_NOT_RECOGNIZED",
    "CALLING_AE_NOT_RECOGNIZED",
    "CT_IMAGE_STORAGE",
    "DEFAULT_MAX_LENGTH",
    "DICOM_APPLICATION_CONTEXT",
    "EXPLICIT_VR_LITTLE_ENDIAN",
    "HARNESS_IMPLEMENTATION_CLASS_UID",
    "HARNESS_IMPLEMENTATION_VERSION_NAME",
    "IMPLICIT_VR_LITTLE_ENDIAN",
    "LOCAL_LIMIT_EXCEEDED",
    "NO_REASON_GIVEN",
    "PROTOCOL_VERSION_NOT_SUPPORTED",
    "SECONDARY_CAPTURE_IMAGE_STORAGE",
    "USER_IDENTITY_NOT_AUTHORIZED",
    "VERIFICATION_SOP_CLASS",
    "AcceptorPolicy",
    "AssociateAC",
    "AssociateRQ",
    "CommonExtendedNegotiation",
    "ContextResult",
    "Irregularities",
    "PresentationContext",
    "PresentationContextResult",
    "Rejection",
    "RoleSelection",
    "UserIdentity",
    "accepted_contexts",
    "negotiate",
]
