"""The negotiation stimuli and AC values scenarios use (harness.stimuli): the RQ shortcuts
for 57H and for sub-items inside a presentation context, and the derived AC values."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from harness import association as assoc
from harness import pdu
from harness.scenario import Send
from harness.stimuli import ac_values, build_pdus, mismatches, resolve_where, stand_in_context

VERIFICATION = assoc.VERIFICATION_SOP_CLASS
IMPLICIT = assoc.IMPLICIT_VR_LITTLE_ENDIAN
CT = assoc.CT_IMAGE_STORAGE


def rq_packet(fields: dict[str, Any]) -> Any:
    """The A-ASSOCIATE-RQ a ``send`` step with ``fields`` puts on the wire, dissected."""
    (data,) = build_pdus(Send(1, "A-ASSOCIATE-RQ", fields), stand_in_context())
    return pdu.dissect_one(data)


def test_common_extended_negotiation_is_sent_as_57h_version_0() -> None:
    packet = rq_packet(
        {
            "common_extended_negotiation": [
                {
                    "sop_class_uid": CT,
                    "service_class_uid": "1.2.840.10008.4.2",
                    "related_general_sop_classes": ["1.2.840.10008.5.1.4.1.1.7"],
                }
            ]
        }
    )
    rq = assoc.AssociateRQ.from_packet(packet)
    assert rq.common_extended_negotiation == (
        assoc.CommonExtendedNegotiation(CT, "1.2.840.10008.4.2", ("1.2.840.10008.5.1.4.1.1.7",)),
    )


def test_extra_pc_sub_items_go_inside_the_named_context_after_its_syntaxes() -> None:
    packet = rq_packet(
        {
            "presentation_contexts": [
                {"id": 1, "abstract_syntax": VERIFICATION, "transfer_syntaxes": [IMPLICIT]},
                {"id": 3, "abstract_syntax": CT, "transfer_syntaxes": [IMPLICIT]},
            ],
            "extra_pc_sub_items": {"3": [{"item_type": 0x60, "data": "0102"}]},
        }
    )
    contexts = {
        item.pc_id: [sub.item_type for sub in item.sub_items]
        for item in packet.variable_items
        if isinstance(item, pdu.PresentationContextRQItem)
    }
    assert contexts == {1: [0x30, 0x40], 3: [0x30, 0x40, 0x60]}
    rq = assoc.AssociateRQ.from_packet(packet)
    assert rq.irregularities.ignored_items == (0x60,)


def test_extra_pc_sub_items_for_a_context_not_proposed_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match="PC-ID 5"):
        rq_packet({"extra_pc_sub_items": {5: [{"item_type": 0x60}]}})


def ac_with(**changes: Any) -> Any:
    """A dissected A-ASSOCIATE-AC with two contexts, changed by ``changes``."""
    ac = assoc.AssociateAC(
        called_ae_title="SCP",
        calling_ae_title="SCU",
        results=(
            assoc.PresentationContextResult(3, assoc.ContextResult.ACCEPTANCE, IMPLICIT),
            assoc.PresentationContextResult(1, assoc.ContextResult.NO_REASON, IMPLICIT),
        ),
    )
    return pdu.dissect_one(bytes(replace(ac, **changes).build()))


def test_ac_values_count_items_and_sub_items_and_list_the_answered_ids() -> None:
    values = ac_values(ac_with())
    assert values["application_context_name"] == assoc.DICOM_APPLICATION_CONTEXT
    assert values["pc_ids"] == [1, 3]
    assert values["pc_sub_items"] == {3: [0x40], 1: [0x40]}
    assert values["item_counts"] == {0x10: 1, 0x21: 2, 0x50: 1}
    assert values["user_data_counts"] == {0x51: 1, 0x52: 1, 0x55: 1}
    assert values["max_ops_invoked"] is None
    assert values["max_ops_performed"] is None
    assert values["user_identity_response"] is None
    assert values["extended_negotiation"] == {}


def test_ac_values_of_the_optional_answers() -> None:
    values = ac_values(
        ac_with(
            async_ops_window=(3, 2),
            user_identity_response=b"\x01\x02",
            extended_negotiation=((CT, b"\x00\x01"),),
        )
    )
    assert (values["max_ops_invoked"], values["max_ops_performed"]) == (3, 2)
    assert values["user_identity_response"] == "0102"
    assert values["extended_negotiation"] == {CT: "0001"}
    assert values["user_data_counts"][0x53] == 1
    assert ac_values(ac_with(user_identity_response=b""))["user_identity_response"] == ""


@pytest.mark.parametrize(
    ("where", "problems"),
    [
        ({"user_data_counts": {"83": None, "81": 1}}, 0),  # YAML keys arrive as text
        ({"user_data_counts": {0x55: [None, 1]}}, 0),
        ({"user_data_counts": {0x51: 2}}, 1),
        ({"pc_ids": [1, 3]}, 0),
        ({"pc_ids": [1]}, 1),
        ({"pc_results": {1: {"not": "acceptance"}, 3: "acceptance"}}, 0),
        ({"user_identity_response": ""}, 1),
    ],
)
def test_where_matches_the_derived_values(where: dict[str, Any], problems: int) -> None:
    resolved = resolve_where("A-ASSOCIATE-AC", where, stand_in_context())
    assert len(mismatches(resolved, ac_values(ac_with()))) == problems
