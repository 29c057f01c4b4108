"""The bounded memo tables behind the PDUs built and read over and over: what they keep,
what they never keep, and that a memoised PDU is the one the scapy layers build."""

from __future__ import annotations

import pytest

from harness import pdu
from harness.memo import Memo
from harness.scenario import Send, parse_steps
from harness.stimuli import Context, build_pdus, stand_in_context
from harness.yamlsrc import SourceError


def _counting(calls: list[str], value: str) -> str:
    calls.append(value)
    return value


def test_a_kept_result_is_computed_once() -> None:
    memo: Memo[str] = Memo(entries=4, max_size=100, size=len)
    calls: list[str] = []
    first = memo.get("key", lambda: _counting(calls, "value"))
    again = memo.get("key", lambda: _counting(calls, "other"))
    assert (first, again, calls) == ("value", "value", ["value"])


def test_the_least_recently_used_key_goes_beyond_the_entries() -> None:
    memo: Memo[str] = Memo(entries=2, max_size=100, size=len)
    calls: list[str] = []
    memo.get("a", lambda: _counting(calls, "a"))
    memo.get("b", lambda: _counting(calls, "b"))
    memo.get("a", lambda: _counting(calls, "a again"))  # "a" is now the most recent
    memo.get("c", lambda: _counting(calls, "c"))  # "b" goes
    memo.get("b", lambda: _counting(calls, "b again"))
    memo.get("a", lambda: _counting(calls, "a once more"))
    assert calls == ["a", "b", "c", "b again", "a once more"]
    assert len(memo) == 2


def test_a_result_over_the_size_limit_is_never_kept() -> None:
    memo: Memo[str] = Memo(entries=4, max_size=3, size=len)
    calls: list[str] = []
    memo.get("key", lambda: _counting(calls, "long"))
    memo.get("key", lambda: _counting(calls, "long"))
    assert calls == ["long", "long"]
    assert len(memo) == 0


def test_an_unhashable_key_is_computed_and_not_kept() -> None:
    memo: Memo[str] = Memo(entries=4, max_size=100, size=len)
    calls: list[str] = []
    memo.get(("set", {1, 2}), lambda: _counting(calls, "x"))
    memo.get(("set", {1, 2}), lambda: _counting(calls, "x"))
    assert calls == ["x", "x"]


def _rq(fields: dict[str, object], context: Context) -> bytes:
    (step,) = parse_steps([{"send": "A-ASSOCIATE-RQ", "set": fields}], "acceptor", "test")
    assert isinstance(step, Send)
    return build_pdus(step, context)[0]


def test_a_memoised_rq_is_the_one_the_layers_build_and_still_sets_the_proposal() -> None:
    context = stand_in_context()
    first = _rq({"max_length": 4096}, context)
    context.harness_max_length = 0
    again = _rq({"max_length": 4096}, context)
    assert again == first == bytes(pdu.dissect_one(first))
    assert context.harness_max_length == 4096  # the proposal is the context's on a hit too
    assert _rq({"max_length": 8192}, context) != first


def test_a_value_equal_to_a_memoised_one_but_of_another_type_is_built_afresh() -> None:
    context = stand_in_context()
    assert _rq({"protocol_version": 1}, context)[6:8] == b"\x00\x01"
    with pytest.raises(SourceError, match="protocol_version"):  # 1.0 == 1, but no integer
        _rq({"protocol_version": 1.0}, context)


def test_a_shared_dissection_is_the_same_packet_for_the_same_bytes() -> None:
    data = bytes(pdu.A_RELEASE_RP())
    assert pdu.dissect_shared(data) is pdu.dissect_shared(bytes(data))
    assert bytes(pdu.dissect_shared(data)) == data
