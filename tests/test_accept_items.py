"""The A-ASSOCIATE-AC the ``accept`` step (or ``send: A-ASSOCIATE-AC``) builds from the
SUT's A-ASSOCIATE-RQ: which user-information sub-items it answers, the order of its
items, and the maximum length that then binds the SUT's P-DATA-TF (PS3.8 9.3.3, D.1;
PS3.7 D.3.3.2-4). Then the responses we send to the SUT's requests over it."""

from __future__ import annotations

from typing import Any

import pytest

from harness import association as assoc
from harness import dimse, pdu
from harness.scenario import Send
from harness.stimuli import Context, ac_values, build_pdus, stand_in_context

CT_ROLE = assoc.RoleSelection(assoc.CT_IMAGE_STORAGE, scu_role=1, scp_role=1)


@pytest.fixture
def context() -> Context:
    """A context holding a received RQ that proposes a 3/3 window and a 54H for CT."""
    context = stand_in_context()
    rq = assoc.AssociateRQ(
        called_ae_title="DICOM-HARNESS",
        calling_ae_title="SCU",
        presentation_contexts=(
            assoc.PresentationContext(
                1, assoc.CT_IMAGE_STORAGE, (assoc.IMPLICIT_VR_LITTLE_ENDIAN,)
            ),
        ),
        async_ops_window=(3, 3),
        role_selections=(CT_ROLE,),
    )
    context.received_rq = pdu.dissect_one(bytes(rq.build()))
    return context


def ac(context: Context, **fields: Any) -> dict[str, Any]:
    """The matchable values of the AC built with ``set: fields``."""
    (data,) = build_pdus(Send(line=1, what="A-ASSOCIATE-AC", fields=fields), context)
    return ac_values(pdu.dissect_one(data))


def test_the_ac_answers_no_53h_or_54h_unless_set(context: Context) -> None:
    values = ac(context)

    assert (values["async_ops_window"], values["role_selections"]) == (None, {})
    assert values["user_data_types"] == [0x51, 0x52, 0x55]


def test_the_ac_answers_the_window_and_roles_it_is_given(context: Context) -> None:
    values = ac(
        context,
        async_ops_window=[2, 1],
        role_selections=[{"sop_class_uid": assoc.CT_IMAGE_STORAGE, "scu_role": 1, "scp_role": 0}],
    )

    assert values["async_ops_window"] == [2, 1]
    assert values["role_selections"] == {assoc.CT_IMAGE_STORAGE: [1, 0]}


def test_null_and_empty_leave_the_53h_and_54h_out(context: Context) -> None:
    values = ac(context, async_ops_window=None, role_selections={})

    assert values["user_data_types"] == [0x51, 0x52, 0x55]


def test_item_order_puts_the_items_in_the_order_of_their_types(context: Context) -> None:
    """PS3.8 9.3.3 fixes 10H, 21H..., 50H: another order is a negative test."""
    assert ac(context, item_order=[0x50, 0x21, 0x10])["item_types"] == [0x50, 0x21, 0x10]


def test_item_order_places_extra_items_and_keeps_unlisted_types_after(context: Context) -> None:
    values = ac(
        context,
        extra_items=[{"item_type": 0x60, "data": "00"}],
        item_order=[0x60, 0x10],
    )

    assert values["item_types"] == [0x60, 0x10, 0x21, 0x50]


def test_item_order_applies_to_an_rq_we_send_as_well() -> None:
    send = Send(line=1, what="A-ASSOCIATE-RQ", fields={"item_order": [0x20, 0x10, 0x50]})

    (data,) = build_pdus(send, stand_in_context())

    assert [item.item_type for item in pdu.dissect_one(data).variable_items] == [0x20, 0x10, 0x50]


def test_the_max_length_of_our_ac_is_the_limit_for_the_suts_p_data(context: Context) -> None:
    values = ac(context, max_length=256)

    assert values["max_length"] == context.harness_max_length == 256


def test_the_ac_names_the_implementation_it_is_given(context: Context) -> None:
    """PS3.7 D.3.3.2: a UID of up to 64 characters, a version name of up to 16."""
    uid = "2.25.252951307840967885873343851636622273927.2026.1125.123456789"
    values = ac(context, implementation_class_uid=uid, implementation_version_name="A" * 16)

    assert len(uid) == 64
    assert (values["implementation_class_uid"], values["implementation_version_name"]) == (
        uid,
        "A" * 16,
    )


def test_a_null_implementation_version_name_leaves_the_55h_out(context: Context) -> None:
    assert ac(context, implementation_version_name=None)["user_data_types"] == [0x51, 0x52]


# -- our responses to the SUT's requests ------------------------------------------------


def answered(context: Context, **fields: Any) -> int:
    """The MessageIDBeingRespondedTo of the C-ECHO-RSP built with ``set: fields``."""
    send = Send(line=1, what="C-ECHO-RSP", fields=fields)
    message = dimse.Reassembler().feed_p_data(build_pdus(send, context)[0][6:])
    assert message is not None
    return int(message.command.MessageIDBeingRespondedTo)


def test_responses_answer_the_oldest_outstanding_request_first(context: Context) -> None:
    """With several requests outstanding (PS3.7 D.3.3.3) each response answers another."""
    for message_id in (7, 8, 9):
        context.answering(dimse.c_echo_rq(message_id))

    first, named, oldest = (
        answered(context),
        answered(context, message_id_being_responded_to=9),
        answered(context),
    )

    assert (first, named, oldest) == (7, 9, 8)
