"""Building blocks shared by every PDU, item and sub-item layer (PS3.8 section 9.3.1).

Every structure of the Upper Layer protocol is a header carrying a big-endian length,
then a body of exactly that many bytes. :class:`LengthPrefixed` captures that once:

- on build, a length left unset (``None``) is computed from the body; a length that was
  set is sent exactly as written, so a wrong length is one field away;
- on dissection, the fields only ever see the declared body, and whatever follows it is
  handed back (as scapy padding) to the enclosing list.

Each layer also declares its ``shape``: the few structural facts (fixed bytes, inner
2-byte length fields, lists of elements) that :mod:`harness.pdu.decode` checks with
``struct`` before scapy dissects, so that every defect gets an exact byte offset.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from scapy.fields import StrField, StrFixedLenField, StrLenField
from scapy.packet import Packet

MAX_ITEMS = 16384
"""``max_count`` of every item list: more than a 16-bit item-length can hold (65535 / 4)."""

MAX_PDVS = 100_000
"""``max_count`` of the PDV list of one P-DATA-TF PDU."""


@dataclass(frozen=True)
class Fixed:
    """``size`` bytes of fixed-size fields (``what`` names them in error messages)."""

    size: int
    what: str


@dataclass(frozen=True)
class Elements:
    """The rest of a region is a list of length-prefixed elements.

    ``classify`` maps the first byte of an element (its item-type, when it has one) to
    the layer that dissects it; at most ``max_count`` elements are accepted.
    """

    classify: Callable[[int], type[LengthPrefixed]]
    max_count: int


@dataclass(frozen=True)
class Counted:
    """A 2-byte big-endian length field named ``length_field``, then that many bytes.

    When ``elements`` is given, those bytes are themselves a list of elements
    (the related general SOP class list of PS3.7 Table D.3-12).
    """

    length_field: str
    elements: Elements | None = None


Shape = tuple[Fixed | Counted | Elements, ...]
"""The body of a layer, in order; bytes left after the last token are the layer's tail."""


class LengthPrefixed(Packet):
    """A structure whose header holds the big-endian length of the body that follows.

    Subclasses set ``length_field`` (the field name), ``length_offset`` (its position in
    the header), ``length_format`` (``"!H"`` or ``"!I"``), ``typed`` (whether byte 1 is a
    type code) and ``shape``.
    """

    length_field: ClassVar[str] = "item_length"
    length_offset: ClassVar[int] = 2
    length_format: ClassVar[str] = "!H"
    typed: ClassVar[bool] = True
    shape: ClassVar[Shape] = ()

    @classmethod
    def header_size(cls) -> int:
        """Bytes before the body: everything up to and including the length field."""
        return cls.length_offset + struct.calcsize(cls.length_format)

    @classmethod
    def layer_name(cls) -> str:
        """The display name (scapy keeps a class's ``name`` as ``_name``)."""
        name: str = cls._name
        return name

    @classmethod
    def declared_length(cls, data: bytes, offset: int = 0) -> int:
        """The length field of the structure starting at ``offset`` in ``data``."""
        value: int = struct.unpack_from(cls.length_format, data, offset + cls.length_offset)[0]
        return value

    def do_dissect(self, s: bytes) -> bytes:
        """Dissect the fields from the declared body only; return what follows it."""
        if len(s) < self.header_size():
            rest: bytes = super().do_dissect(s)
            return rest
        end = self.header_size() + self.declared_length(s)
        rest = super().do_dissect(s[:end])
        return rest + s[end:]

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        """Nothing after the body is a payload of this layer: it belongs to the next element."""
        return b"", s

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        """Fill in the length field from the body when it was left unset."""
        if self.getfieldval(self.length_field) is not None:
            return pkt + pay
        size = len(pkt) + len(pay) - self.header_size()
        limit = 1 << (8 * struct.calcsize(self.length_format))
        if size >= limit:
            raise ValueError(f"{self.name}: a body of {size} bytes overflows {self.length_field}")
        start = self.length_offset
        length = struct.pack(self.length_format, size)
        return pkt[:start] + length + pkt[start + len(length) :] + pay


class TextValue:
    """Marker for fields that hold ISO 646 text (UIDs, AE titles, names): shown as ``str``."""

    __slots__ = ()


class TextField(TextValue, StrField):
    """Text taking the rest of the body; a UID is sent as given, never padded (PS3.8 Annex F)."""

    __slots__ = ()


class TextLenField(TextValue, StrLenField):
    """Text whose length comes from a preceding length field; never padded (PS3.8 Annex F)."""

    __slots__ = ()


class PaddedField(StrFixedLenField):
    """Exactly ``length`` bytes: shorter values are padded with ``pad`` on build.

    A value longer than the field is refused with ``ValueError`` rather than silently
    truncated; to send arbitrary bytes in its place, set the field to ``scapy.packet.RawVal``.
    """

    __slots__ = ("pad",)

    def __init__(self, name: str, default: bytes, length: int, pad: bytes) -> None:
        super().__init__(name, default, length=length)
        self.pad = pad

    def i2m(self, pkt: Packet | None, x: Any) -> bytes:
        """Pad to the fixed length; refuse values that do not fit."""
        value: bytes = super().i2m(pkt, x)
        if len(value) > self.sz:
            raise ValueError(
                f"{self.name}: {len(value)} bytes do not fit the {self.sz}-byte field "
                "(use scapy.packet.RawVal to send raw bytes)"
            )
        return value.ljust(self.sz, self.pad)

    def addfield(self, pkt: Packet, s: bytes, val: Any) -> bytes:
        """Append the padded value."""
        return s + self.i2m(pkt, val)

    def i2repr(self, pkt: Packet | None, x: Any) -> str:
        """All the bytes, padding included (scapy's default hides trailing NULs)."""
        return repr(x)


class AETitleField(TextValue, PaddedField):
    """A 16-byte AE title, space-padded on build (PS3.8 Table 9-11, bytes 11-26 and 27-42)."""

    __slots__ = ()

    def __init__(self, name: str, default: bytes) -> None:
        super().__init__(name, default, 16, b" ")


def dispatcher(
    classes: Mapping[int, type[LengthPrefixed]], default: type[LengthPrefixed]
) -> Callable[[int], type[LengthPrefixed]]:
    """A ``classify`` callable: the layer for a type byte, ``default`` for unknown types."""

    def classify(type_byte: int) -> type[LengthPrefixed]:
        return classes.get(type_byte, default)

    return classify


def element_list(classify: Callable[[int], type[LengthPrefixed]]) -> Callable[..., Packet]:
    """The ``pkt_cls`` of a scapy ``PacketListField``: dissect one element by its first byte."""

    def dissect_element(data: bytes, **kwargs: Any) -> Packet:
        return classify(data[0])(data, **kwargs)

    return dissect_element
