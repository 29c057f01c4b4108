"""harness.dimse: command sets, data sets, fragmentation and reassembly; pynetdicom as oracle."""

from __future__ import annotations

import struct
from collections.abc import Callable
from io import BytesIO

import pytest
from pydicom.dataset import Dataset

from harness.dimse import (
    COMMANDS,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    NO_DATA_SET,
    CommandAfterCommandError,
    CommandDecodeError,
    ContextChangedError,
    DataBeforeCommandError,
    DataSetDecodeError,
    EncapsulationError,
    Message,
    MixedMessagesError,
    OddFragmentError,
    Reassembler,
    build_command,
    c_echo_rq,
    c_echo_rsp,
    c_find_rq,
    c_find_rsp,
    c_store_rq,
    c_store_rsp,
    decode_command,
    decode_data_set,
    encode_command,
    encode_data_set,
    message_pdus,
)
from harness.errors import DecodeError
from harness.framing import PDV, encode_p_data_tf, iter_pdvs

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
INSTANCE = "1.2.826.0.1.3680043.2.1125.1.42"
EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"

COMMAND_SETS: dict[str, Callable[[], Dataset]] = {
    "C-ECHO-RQ": lambda: c_echo_rq(1),
    "C-ECHO-RSP": lambda: c_echo_rsp(1, 0x0000),
    "C-STORE-RQ": lambda: c_store_rq(2, CT_IMAGE, INSTANCE, priority=1),
    "C-STORE-RSP": lambda: c_store_rsp(2, CT_IMAGE, INSTANCE, status=0xB000),
    "C-FIND-RQ": lambda: c_find_rq(3, STUDY_ROOT_FIND, priority=2),
    "C-FIND-RSP": lambda: c_find_rsp(3, STUDY_ROOT_FIND, 0xFF00),
}


def small_data_set() -> Dataset:
    data_set = Dataset()
    data_set.SOPClassUID = CT_IMAGE
    data_set.SOPInstanceUID = INSTANCE
    data_set.PatientName = "Doe^Jane"
    data_set.PatientID = "12345"
    data_set.Rows = 4
    data_set.Columns = 4
    item = Dataset()
    item.ReferencedSOPClassUID = CT_IMAGE
    item.ReferencedSOPInstanceUID = INSTANCE + ".1"
    data_set.ReferencedImageSequence = [item]
    return data_set


def values(data_set: Dataset) -> dict[int, object]:
    return {int(element.tag): element.value for element in data_set}


def pynetdicom_message(pdus: list[bytes]) -> tuple[int, Dataset, bytes | None]:
    """Decode P-DATA-TF PDUs with pynetdicom (test-only oracle)."""
    from pynetdicom.dimse_messages import DIMSEMessage
    from pynetdicom.pdu import P_DATA_TF

    message = DIMSEMessage()
    complete = False
    for data in pdus:
        pdu = P_DATA_TF()
        pdu.decode(data)
        complete = message.decode_msg(pdu.to_primitive())
    assert complete
    data_set = message.data_set.getvalue() if message.data_set is not None else None
    return message.context_id, message.command_set, data_set or None


def reassemble(pdus: list[bytes]) -> list[Message]:
    reassembler = Reassembler()
    messages = [reassembler.feed_p_data(pdu[6:]) for pdu in pdus]
    return [message for message in messages if message is not None]


@pytest.mark.parametrize("name", COMMAND_SETS)
def test_command_set_round_trip(name: str) -> None:
    command = COMMAND_SETS[name]()
    encoded = encode_command(command)
    decoded = decode_command(encoded)

    assert decoded.CommandField == COMMANDS[name].command_field
    assert decoded.CommandGroupLength == len(encoded) - 12
    assert encoded[:8] == bytes.fromhex("0000 0000 04000000")
    assert {k: v for k, v in values(decoded).items() if k} == values(command)
    for keyword in COMMANDS[name].required:
        assert keyword in decoded


@pytest.mark.parametrize("name", COMMAND_SETS)
def test_command_set_agrees_with_pynetdicom(name: str) -> None:
    from pynetdicom.dsutils import decode

    encoded = encode_command(COMMAND_SETS[name]())
    theirs = decode(BytesIO(encoded), is_implicit_vr=True, is_little_endian=True)
    assert values(theirs) == values(decode_command(encoded))


@pytest.mark.parametrize(
    ("command", "data_set_type"),
    [
        (c_echo_rq(1), NO_DATA_SET),
        (c_store_rq(1, CT_IMAGE, INSTANCE), 0x0001),
        (c_find_rsp(1, STUDY_ROOT_FIND, 0xFF01), 0x0001),
        (c_find_rsp(1, STUDY_ROOT_FIND, 0x0000), NO_DATA_SET),
    ],
)
def test_command_data_set_type(command: Dataset, data_set_type: int) -> None:
    assert command.CommandDataSetType == data_set_type


def test_encode_ignores_a_stale_group_length() -> None:
    command = c_echo_rq(1)
    command.CommandGroupLength = 999
    assert decode_command(encode_command(command)).CommandGroupLength == 56


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("C-ECHO-RQ", {"MessageID": 1}, "requires AffectedSOPClassUID"),
        ("C-FIND-RSP", {"MessageIDBeingRespondedTo": 1, "AffectedSOPClassUID": "1.2", "Status": 0},
         "requires CommandDataSetType"),
        ("C-ECHO-RQ", {"MessageID": 1, "AffectedSOPClassUID": "1.2", "PatientID": "x"},
         "not a command element"),
    ],
)  # fmt: skip
def test_build_command_refuses(name: str, given: dict[str, int | str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_command(name, **given)


ECHO = encode_command(c_echo_rq(7))


def element(group: int, elem: int, value: bytes) -> bytes:
    return struct.pack("<HHL", group, elem, len(value)) + value


@pytest.mark.parametrize(
    ("data", "offset", "message"),
    [
        pytest.param(ECHO[:-1], 58, "overruns", id="value-cut"),
        pytest.param(ECHO[:-9], 58, "inside an element header", id="header-cut"),
        pytest.param(ECHO + element(0x0008, 0x0016, b"12"), 68, "outside command group", id="grp"),
        pytest.param(ECHO[12:], 0, "group length", id="no-group-length"),
        pytest.param(ECHO[:8] + struct.pack("<L", 50) + ECHO[12:], 8, "56 bytes follow", id="gl"),
        pytest.param(
            ECHO[:12] + ECHO[38:48] + ECHO[12:38] + ECHO[48:], 22, "ascending", id="order"
        ),
        pytest.param(
            element(0, 0, struct.pack("<L", 10)) + element(0, 0x110, b"\x01\x00"),
            22,
            "no CommandField",
            id="no-command-field",
        ),
        pytest.param(
            element(0, 0, struct.pack("<L", 9)) + element(0, 0x100, b"\x01"),
            12,
            r"element \(0000,0100\)",
            id="bad-us",
        ),
    ],
)
def test_command_decode_errors_are_typed(data: bytes, offset: int, message: str) -> None:
    with pytest.raises(CommandDecodeError, match=message) as caught:
        decode_command(data)
    assert caught.value.offset == offset


@pytest.mark.parametrize(
    "syntax",
    [IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED],
)
def test_data_set_round_trip(syntax: str) -> None:
    encoded = encode_data_set(small_data_set(), syntax)
    assert len(encoded) % 2 == 0
    assert decode_data_set(encoded, syntax) == small_data_set()


@pytest.mark.parametrize("syntax", [IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN])
def test_data_set_agrees_with_pynetdicom(syntax: str) -> None:
    from pynetdicom.dsutils import decode, encode

    implicit = syntax == IMPLICIT_VR_LITTLE_ENDIAN
    ours = encode_data_set(small_data_set(), syntax)
    assert encode(small_data_set(), implicit, True) == ours
    assert decode(BytesIO(ours), implicit, True) == decode_data_set(ours, syntax)


@pytest.mark.parametrize("cut", [1, 3, 9])
@pytest.mark.parametrize("syntax", [IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, DEFLATED])
def test_truncated_data_set_is_a_decode_error(syntax: str, cut: int) -> None:
    encoded = encode_data_set(small_data_set(), syntax)
    if syntax == DEFLATED:
        encoded = encoded.rstrip(b"\0")
    with pytest.raises(DataSetDecodeError):
        decode_data_set(encoded[:-cut], syntax)


def test_unknown_transfer_syntax_is_refused() -> None:
    with pytest.raises(ValueError, match="not a transfer syntax"):
        encode_data_set(small_data_set(), "1.2.3.4")


@pytest.mark.parametrize("max_length", [0, 16, 256, 16384])
def test_c_store_round_trip_and_pynetdicom_agrees(max_length: int) -> None:
    command = c_store_rq(11, CT_IMAGE, INSTANCE)
    data_set = encode_data_set(small_data_set(), EXPLICIT_VR_LITTLE_ENDIAN)
    pdus = message_pdus(5, encode_command(command), data_set, max_length)

    controls = [pdv.message_control_header for p in pdus for pdv in iter_pdvs(p[6:])]
    commands = [c for c in controls if c & 1]
    assert controls == commands + [c for c in controls if not c & 1]
    assert commands[-1] == 3
    assert controls[-1] == 2
    assert all(max_length == 0 or len(p) - 6 <= max_length for p in pdus)
    if max_length == 16:
        assert len(pdus) > 10

    (message,) = reassemble(pdus)
    assert (message.pc_id, message.data_set) == (5, data_set)
    assert values(message.command) == values(decode_command(encode_command(command)))
    theirs = pynetdicom_message(pdus)
    assert theirs[0] == 5
    assert values(theirs[1]) == values(message.command)
    assert theirs[2] == data_set


@pytest.mark.parametrize("max_length", [16, 16384])
def test_c_echo_round_trip(max_length: int) -> None:
    pdus = message_pdus(1, encode_command(c_echo_rsp(4)), None, max_length)
    (message,) = reassemble(pdus)
    assert message.data_set is None
    assert message.command.MessageIDBeingRespondedTo == 4
    assert values(pynetdicom_message(pdus)[1]) == values(message.command)


def test_reassembles_what_pynetdicom_encodes() -> None:
    from pynetdicom.dimse_messages import C_FIND_RQ
    from pynetdicom.dimse_primitives import C_FIND
    from pynetdicom.pdu import P_DATA_TF

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.PatientID = "12345"
    primitive = C_FIND()
    primitive.MessageID = 21
    primitive.AffectedSOPClassUID = STUDY_ROOT_FIND
    primitive.Priority = 0
    primitive.Identifier = BytesIO(encode_data_set(identifier, IMPLICIT_VR_LITTLE_ENDIAN))
    message = C_FIND_RQ()
    message.primitive_to_message(primitive)
    pdus = []
    for p_data in message.encode_msg(3, 32):
        pdu = P_DATA_TF()
        pdu.from_primitive(p_data)
        pdus.append(pdu.encode())

    (ours,) = reassemble(pdus)
    assert (ours.pc_id, ours.command.MessageID, ours.command.CommandField) == (3, 21, 0x0020)
    assert ours.data_set is not None
    assert decode_data_set(ours.data_set, IMPLICIT_VR_LITTLE_ENDIAN) == identifier


def test_one_p_data_tf_with_several_pdvs_of_one_message() -> None:
    command = encode_command(c_echo_rq(1))
    body = encode_p_data_tf([(1, 0xFD, command[:20]), (1, 0x03, command[20:])])[6:]
    message = Reassembler().feed_p_data(body)
    assert message is not None
    assert message.command.MessageID == 1


def test_empty_pdv_between_messages_is_ignored() -> None:
    reassembler = Reassembler()
    body = encode_p_data_tf([(1, 0x03, encode_command(c_echo_rq(1)))])[6:]
    assert reassembler.feed_p_data(body) is not None
    assert reassembler.feed_p_data(encode_p_data_tf([(1, 0x03, b"")])[6:]) is None
    assert reassembler.feed_p_data(body) is not None


def pdvs(*items: tuple[int, int, bytes]) -> list[PDV]:
    return list(iter_pdvs(encode_p_data_tf(items)[6:]))


STORE = encode_command(c_store_rq(1, CT_IMAGE, INSTANCE))
ECHO_PDV = (1, 0x03, ECHO)


@pytest.mark.parametrize(
    ("items", "error", "offset"),
    [
        pytest.param([(1, 1, STORE[:20]), (3, 3, STORE[20:])], ContextChangedError, 26, id="pc"),
        pytest.param([(1, 3, STORE), (3, 2, b"ab")], ContextChangedError, 6 + len(STORE), id="pc2"),
        pytest.param([(1, 0, b"abcd")], DataBeforeCommandError, 0, id="data-first"),
        pytest.param([(1, 3, STORE), (1, 1, b"ab")], CommandAfterCommandError, 6 + len(STORE),
                     id="command-after-command"),
        pytest.param([(1, 1, b"abc")], OddFragmentError, 0, id="odd"),
        pytest.param([(1, 3, ECHO), (1, 2, b"ab")], DataBeforeCommandError, 6 + len(ECHO),
                     id="data-after-no-data-set"),
    ],
)  # fmt: skip
def test_annex_e_violations_raise_typed_errors(
    items: list[tuple[int, int, bytes]], error: type[EncapsulationError], offset: int
) -> None:
    reassembler = Reassembler()
    *good, bad = pdvs(*items)
    for pdv in good:
        reassembler.feed(pdv)
    with pytest.raises(error, match=r"PS3\.8 Annex E\.1") as caught:
        reassembler.feed(bad)
    assert caught.value.offset == offset
    assert isinstance(caught.value, DecodeError)


def test_two_messages_in_one_p_data_tf() -> None:
    body = encode_p_data_tf([ECHO_PDV, ECHO_PDV])[6:]
    with pytest.raises(MixedMessagesError) as caught:
        Reassembler().feed_p_data(body)
    assert caught.value.offset == 6 + len(ECHO)


def test_bad_command_in_a_message_is_a_command_decode_error() -> None:
    with pytest.raises(CommandDecodeError):
        Reassembler().feed_p_data(encode_p_data_tf([(1, 3, ECHO[:-2])])[6:])
