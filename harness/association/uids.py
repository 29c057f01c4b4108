"""UIDs and codes of association negotiation (PS3.6 Annex A; PS3.7 Annex A.2.1; PS3.8
Table 9-18)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from harness.pdu import items as _items

DICOM_APPLICATION_CONTEXT: Final = _items.DICOM_APPLICATION_CONTEXT.decode()
VERIFICATION_SOP_CLASS: Final = _items.VERIFICATION_SOP_CLASS.decode()
CT_IMAGE_STORAGE: Final = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE_IMAGE_STORAGE: Final = "1.2.840.10008.5.1.4.1.1.7"
IMPLICIT_VR_LITTLE_ENDIAN: Final = _items.IMPLICIT_VR_LITTLE_ENDIAN.decode()
EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"
HARNESS_IMPLEMENTATION_CLASS_UID: Final = _items.HARNESS_IMPLEMENTATION_CLASS_UID.decode()
HARNESS_IMPLEMENTATION_VERSION_NAME: Final = "DICOM_UL_HARNESS"
"""16 characters, the most PS3.7 Table D.3-3 allows."""

DEFAULT_MAX_LENGTH: Final = 16384


class ContextResult(IntEnum):
    """Result/Reason of a presentation context in the A-ASSOCIATE-AC (PS3.8 Table 9-18)."""

    ACCEPTANCE = 0
    USER_REJECTION = 1
    NO_REASON = 2
    ABSTRACT_SYNTAX_NOT_SUPPORTED = 3
    TRANSFER_SYNTAXES_NOT_SUPPORTED = 4
