"""Scenario features for the wire scenarios: what a step builds, and how a run follows it.

Building (:func:`harness.stimuli.build_pdus`): an A-ASSOCIATE-AC to send, an extra item
whose item-length is sent as written, a C-STORE-RQ padded with pixel data, and DIMSE
``max_length: 0`` (one PDV per command and data set). Running (against the built-in
reference SCP): ``any_of`` alternatives with ``then`` steps, and ``transport: reconnect``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness import association as assoc
from harness import dimse, framing, pdu
from harness.profile import Address, Profile, load_profile
from harness.reference import ReferenceServer, config_from_mapping
from harness.results import ScenarioResult, Verdict
from harness.runner import RunOptions, run_scenario
from harness.scenario import Send, parse_scenario
from harness.stimuli import build_pdus, stand_in_context


def build(what: str, fields: dict[str, Any] | None = None, **options: Any) -> list[bytes]:
    return build_pdus(Send(line=1, what=what, fields=fields or {}, **options), stand_in_context())


def pdvs_of(pdus: list[bytes]) -> list[framing.PDV]:
    return [pdv for data in pdus for pdv in framing.iter_pdvs(data[6:])]


# -- building ------------------------------------------------------------------------------


def test_an_associate_ac_accepts_every_proposed_context_with_its_first_syntax() -> None:
    (data,) = build("A-ASSOCIATE-AC", {"reserved1": 0x55})

    packet = pdu.dissect_one(data)
    ac = assoc.AssociateAC.from_packet(packet)

    context = stand_in_context()
    assert isinstance(packet, pdu.A_ASSOCIATE_AC)
    assert packet.reserved1 == 0x55
    assert [(r.id, r.result, r.transfer_syntax) for r in ac.results] == [
        (pc.id, 0, pc.transfer_syntaxes[0]) for pc in context.proposed
    ]
    assert ac.max_length == context.harness_max_length


def test_an_extra_item_length_is_sent_as_written() -> None:
    entry = {"item_type": 0x60, "item_length": 24, "data": "00000000"}
    (data,) = build("A-ASSOCIATE-RQ", {"extra_items": [entry]})

    assert data[-8:] == bytes.fromhex("6000001800000000")
    assert struct.unpack_from(">L", data, 2)[0] == len(data) - 6
    with pytest.raises(pdu.PDUDecodeError):
        pdu.dissect_one(data)


def test_pixel_data_bytes_make_the_stored_object_that_much_larger() -> None:
    plain = pdvs_of(build("C-STORE-RQ", max_length=0))
    padded = pdvs_of(build("C-STORE-RQ", {"pixel_data_bytes": 40000}, max_length=0))

    assert [p.message_control_header for p in padded] == [3, 2]
    growth = len(padded[1].fragment) - len(plain[1].fragment)
    assert 40000 <= growth <= 40000 + 256 + 200
    data_set = dimse.decode_data_set(padded[1].fragment, dimse.IMPLICIT_VR_LITTLE_ENDIAN)
    assert len(data_set.PixelData) == data_set.Rows * data_set.Columns * 2 >= 40000


def test_a_dimse_max_length_of_zero_sends_each_part_in_one_pdv() -> None:
    padded = {"pixel_data_bytes": 40000}

    whole = build("C-STORE-RQ", padded, max_length=0)
    default = build("C-STORE-RQ", padded)

    assert len(whole) == 2
    assert len(default) > 2
    assert all(len(data) - 6 <= stand_in_context().sut_max_length for data in default)


# -- running -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builtin() -> Iterator[tuple[Profile, Address, ReferenceServer]]:
    profile = load_profile("builtin")
    config = config_from_mapping(profile.ae_title, profile.builtin or {})
    with ReferenceServer(config) as server:
        address = Address(*server.address)
        timers = {**profile.timers, "reply": 1.0}
        yield replace(profile, builtin=None, port=address.port, timers=timers), address, server


def run(
    steps: list[Any], builtin: tuple[Profile, Address, ReferenceServer], tmp_path: Path
) -> ScenarioResult:
    profile, address, _ = builtin
    scenario = parse_scenario(
        {
            "id": "acceptor/test/steps",
            "title": "steps",
            "references": ["PS3.8 9.2"],
            "requirement": "MUST",
            "sut_role": "acceptor",
            "steps": steps,
        },
        "<test>",
    )
    return run_scenario(scenario, profile, address, RunOptions(workdir=tmp_path))


def test_then_steps_run_only_after_their_alternative_matched(
    builtin: tuple[Profile, Address, ReferenceServer], tmp_path: Path
) -> None:
    never = [{"expect": "A-ABORT"}]
    steps = [
        {"associate": {}},
        {"send": "C-ECHO-RQ"},
        {"any_of": [{"expect": "A-ASSOCIATE-RJ", "then": never}, {"expect": "C-ECHO-RSP"}]},
        {"send": "A-RELEASE-RQ"},
        {"any_of": [{"expect": "A-RELEASE-RP"}, {"expect": "C-ECHO-RSP", "then": never}]},
    ]
    assert run(steps, builtin, tmp_path).verdict is Verdict.PASSED

    answered = {"expect": "A-ASSOCIATE-AC", "then": never}
    failing = [{"send": "A-ASSOCIATE-RQ"}, {"any_of": [answered, {"expect": "silence"}]}]
    result = run(failing, builtin, tmp_path)
    assert result.verdict is Verdict.FAILED
    assert "expected A-ABORT, got nothing" in result.message


def test_reconnect_opens_a_new_association_after_an_abrupt_end(
    builtin: tuple[Profile, Address, ReferenceServer], tmp_path: Path
) -> None:
    _, _, server = builtin
    before = server.association_count
    steps = [
        {"associate": {}},
        {"transport": "reset"},
        {"transport": "reconnect"},
        {"associate": {}},
        {"send": "C-ECHO-RQ"},
        {"expect": "C-ECHO-RSP", "where": {"status": 0}},
        {"release": {}},
    ]

    result = run(steps, builtin, tmp_path)

    assert result.verdict is Verdict.PASSED, result.message
    assert server.association_count == before + 2
    assert result.cells.count(("Sta1", "Evt5", "AE-5")) == 2
    assert [e["label"] for e in result.transcript].count("connected") == 2
