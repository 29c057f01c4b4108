"""Scenario files and peer profiles: what loads, and where an error says the problem is.

Acceptance (DESIGN.md, "Scenarios" and "Command line"): a scenario-file error (unknown
step, bad field, bad value, YAML syntax) makes ``dicom-harness validate`` exit 2 naming
file:line and the field; :func:`harness.scenario.load_scenario` raises the same
:class:`SourceError` with ``file``, ``line`` and ``field``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import scenario_format
from harness.cli import EXIT_OK, EXIT_USAGE, main
from harness.profile import PEERS_DIR, PROFILE_SCHEMA, PROFILE_SCHEMA_PATH, load_profile
from harness.results import Requirement
from harness.scenario import Expect, Send, load_scenario, load_scenarios
from harness.yamlsrc import SourceError

SUITE = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED_PROFILES = sorted(PEERS_DIR.glob("*.yaml"))

# Metadata on lines 1-5, ``steps:`` on line 6: the first step starts on line 7.
HEAD = """\
id: acceptor/test/probe
title: A probe scenario
references: ["PS3.8 9.3.4"]
requirement: MUST
sut_role: acceptor
steps:
"""
VALID = HEAD + "  - send: A-ABORT\n"


def with_steps(*lines: str) -> str:
    """A scenario with valid metadata and these step lines (the first one is line 7)."""
    return HEAD + "".join(f"{line}\n" for line in lines)


@dataclass(frozen=True)
class Rejection:
    """How one bad file was refused, by the loader and by ``dicom-harness validate``."""

    path: str
    error: SourceError
    stderr: str

    @property
    def location(self) -> tuple[int, str]:
        return self.error.line, self.error.field


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a YAML text into the test's folder and return its path."""

    def write_file(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def reject(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> Callable[[str], Rejection]:
    """Load a bad scenario both ways; both must refuse it, naming the same place."""

    def refuse(text: str) -> Rejection:
        path = write(text)
        with pytest.raises(SourceError) as caught:
            load_scenario(path)
        code = main(["validate", str(path)])
        captured = capsys.readouterr()
        error = caught.value
        assert error.file == str(path)
        assert code == EXIT_USAGE
        assert (captured.out, captured.err) == ("", f"dicom-harness validate: {error}\n")
        return Rejection(str(path), error, captured.err)

    return refuse


# -- the baseline the error cases start from ----------------------------------------------


def test_the_probe_scenario_itself_is_valid(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(VALID)

    scenario = load_scenario(path)

    assert (scenario.id, scenario.requirement, scenario.sut_role) == (
        "acceptor/test/probe",
        Requirement.MUST,
        "acceptor",
    )
    assert scenario.folder == "acceptor/test"
    assert scenario.steps == (Send(line=7, what="A-ABORT"),)
    assert main(["validate", str(path)]) == EXIT_OK
    assert capsys.readouterr().out == "1 scenario(s) valid\n"


def test_steps_remember_their_lines(write: Callable[..., Path]) -> None:
    scenario = load_scenario(
        write(
            with_steps(
                "  - send: A-RELEASE-RQ",
                "  - expect: A-RELEASE-RP",
                "    within: artim",
            )
        )
    )

    assert scenario.steps == (
        Send(line=7, what="A-RELEASE-RQ"),
        Expect(line=8, what="A-RELEASE-RP", within="artim"),
    )


# -- errors: file, line, field --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        pytest.param(
            with_steps("  - send: A-ASSOCIATE-RQ", "  - sned: A-ABORT"),
            8,
            "steps[1]",
            "needs one of the keys: accept, any_of, associate, coalesce, expect, raw",
            id="unknown-step-key",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", "    colour: red"),
            8,
            "steps[0].colour",
            "unknown field (allowed: append, length",
            id="unknown-field-in-step",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT-RQ"),
            7,
            "steps[0].send",
            "'A-ABORT-RQ' is not one of: A-ASSOCIATE-RQ",
            id="unknown-pdu-to-send",
        ),
        pytest.param(
            with_steps(
                "  - send: A-ASSOCIATE-RQ",
                "  - any_of:",
                "      - expect: A-ASSOCIATE-AC",
                "      - expect: A-ASSOCIATE-NAK",
            ),
            10,
            "steps[1].any_of[1].expect",
            "'A-ASSOCIATE-NAK' is not one of",
            id="unknown-pdu-to-expect-in-an-alternative",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", '    truncate: "ten"'),
            8,
            "steps[0].truncate",
            "expected integer, got string",
            id="value-of-the-wrong-type",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", "    truncate: -1"),
            8,
            "steps[0].truncate",
            "-1 is below the minimum 0",
            id="number-out-of-range",
        ),
        pytest.param(
            VALID.replace("requirement: MUST", "requirement: MUSTN'T"),
            4,
            "requirement",
            '"MUSTN\'T" is not one of: MUST, SHOULD, MAY',
            id="requirement-out-of-range",
        ),
        pytest.param(
            VALID.replace("sut_role: acceptor", "sut_role: both"),
            5,
            "sut_role",
            "'both' is not one of: acceptor, requestor",
            id="sut-role-out-of-range",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", "    set: {no_such_field: 1}"),
            8,
            "set.no_such_field",
            "'no_such_field' is not a field of A-ABORT",
            id="set-field-the-pdu-lacks",
        ),
        pytest.param(
            with_steps("  - send: C-ECHO-RQ", "    set: {no_such_field: 1}"),
            8,
            "set.no_such_field",
            "'no_such_field' is not a field of C-ECHO-RQ",
            id="set-field-the-dimse-command-lacks",
        ),
        pytest.param(
            with_steps(
                "  - send: A-ASSOCIATE-RQ",
                "  - expect: A-ASSOCIATE-RJ",
                "    where:",
                "      result: rejected-permanent",
                "      colour: red",
            ),
            11,
            "where.colour",
            "not a field of A-ASSOCIATE-RJ",
            id="where-field-the-pdu-lacks",
        ),
        pytest.param(
            with_steps(
                "  - send: A-ASSOCIATE-RQ",
                "  - expect: A-ASSOCIATE-RJ",
                "    where: {reason: no-such-reason}",
            ),
            9,
            "where.reason",
            "'no-such-reason' is not a reason of A-ASSOCIATE-RJ",
            id="bad-symbolic-value-to-expect",
        ),
        pytest.param(
            with_steps(
                "  - send: A-ASSOCIATE-RQ",
                "  - expect: A-ASSOCIATE-RJ",
                "    where:",
                "      result: rejected-permanent",
                "      reason: no-such-reason",
            ),
            11,
            "where.reason",
            "'no-such-reason' is not a reason of A-ASSOCIATE-RJ",
            id="bad-symbolic-value-to-expect-in-a-block",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", "    set:", "      reason: 2", "      source: nobody"),
            10,
            "set.source",
            "'nobody' is not a source of A-ABORT",
            id="bad-symbolic-value-to-send",
        ),
        pytest.param(
            with_steps(
                "  - send: A-ASSOCIATE-RQ",
                "    set:",
                "      calling_ae_title: HARNESS",
                '      called_ae_title: "NOT-{sut.nope}"',
            ),
            10,
            "set.called_ae_title",
            "unknown template {sut.nope}",
            id="unknown-template",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", "  - expect: transport-closed", "    within: forever"),
            9,
            "within",
            "'forever' is not a number or a timer (reply, artim, silence)",
            id="bad-duration",
        ),
        pytest.param(
            with_steps(
                "  - send: A-ABORT", "  - expect: transport-closed", "    where: {reason: 2}"
            ),
            9,
            "where",
            "transport-closed takes no `where` matchers",
            id="where-on-transport-closed",
        ),
        pytest.param(
            VALID.replace("title: A probe scenario\n", ""),
            1,
            "title",
            "missing required field 'title'",
            id="missing-title",
        ),
        pytest.param(
            VALID.replace('references: ["PS3.8 9.3.4"]', 'references: ["PS3.8 9.3.4", "DICOM 9"]'),
            3,
            "references[1]",
            "'DICOM 9' does not match",
            id="reference-not-to-ps3.7-or-ps3.8",
        ),
        pytest.param(
            VALID.replace(
                'references: ["PS3.8 9.3.4"]', "references:\n  - PS3.8 9.3.4\n  - PS3.9 1"
            ),
            5,
            "references[1]",
            "'PS3.9 1' does not match",
            id="reference-to-another-part-in-a-block-list",
        ),
        pytest.param(
            VALID + "title: Again\n",
            8,
            "title",
            "YAML: duplicate key 'title'",
            id="duplicate-key",
        ),
        pytest.param(
            with_steps("  - send: A-ABORT", "    set: {source: 0, source: 2}"),
            8,
            "source",
            "YAML: duplicate key 'source'",
            id="duplicate-key-inside-a-step",
        ),
    ],
)
def test_a_scenario_error_names_file_line_and_field(
    reject: Callable[[str], Rejection], text: str, line: int, field: str, reason: str
) -> None:
    rejection = reject(text)

    assert rejection.location == (line, field)
    assert reason in rejection.error.reason
    assert f"{rejection.path}:{line}: {field}: " in rejection.stderr


def test_a_yaml_syntax_error_names_file_and_line(reject: Callable[[str], Rejection]) -> None:
    rejection = reject(VALID.replace('["PS3.8 9.3.4"]', '["PS3.8 9.3.4"'))

    # The parser notices at the next key, line 4, and names where the bracket opened.
    assert rejection.location == (4, "")
    assert rejection.error.reason == (
        "YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence that starts at line 3)"
    )
    assert f"{rejection.path}:4: YAML: " in rejection.stderr


def test_an_empty_file_is_not_a_scenario(reject: Callable[[str], Rejection]) -> None:
    rejection = reject("")

    assert rejection.location == (0, "(document)")
    assert rejection.error.reason == "expected object, got null"


def test_a_duplicate_id_across_files_names_the_second_file_and_the_first(
    write: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(VALID, "a.yaml")
    second = write("# the same scenario again\n" + VALID, "b.yaml")

    with pytest.raises(SourceError) as caught:
        load_scenarios([tmp_path])

    assert (caught.value.file, caught.value.line, caught.value.field) == (str(second), 2, "id")
    assert caught.value.reason == f"'acceptor/test/probe' is also in {first}"
    assert main(["validate", str(tmp_path)]) == EXIT_USAGE
    assert f"{second}:2: id: " in capsys.readouterr().err


def test_a_missing_path_is_a_file_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.yaml"

    assert main(["validate", str(missing)]) == EXIT_USAGE
    assert f"{missing}: no such file or folder" in capsys.readouterr().err


# -- the shipped suite ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def suite() -> list[str]:
    """The ids of every scenario shipped under scenarios/, in load order."""
    return [scenario.id for scenario in load_scenarios([SUITE])]


def test_every_shipped_scenario_loads_with_a_unique_id(suite: list[str]) -> None:
    assert len(suite) == len(list(SUITE.rglob("*.yaml")))
    assert len(set(suite)) == len(suite)


def test_each_shipped_scenario_lives_at_its_id_and_names_its_role() -> None:
    for scenario in load_scenarios([SUITE]):
        assert Path(scenario.path) == SUITE / f"{scenario.id}.yaml"
        assert scenario.id.split("/")[0] == scenario.sut_role


def test_validate_accepts_the_whole_suite_by_default(
    suite: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate"]) == EXIT_OK
    assert capsys.readouterr().out == f"{len(suite)} scenario(s) valid\n"


def test_list_prints_each_id_once(suite: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", str(SUITE)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()

    assert [line.split("  ")[0] for line in lines] == suite
    assert all("[MUST]" in line or "[SHOULD]" in line or "[MAY]" in line for line in lines)


def test_the_shipped_json_schemas_are_current() -> None:
    assert scenario_format.SCHEMA_PATH.read_text(encoding="utf-8") == (
        scenario_format.schema_text()
    )
    assert PROFILE_SCHEMA_PATH.read_text(encoding="utf-8") == (
        scenario_format.schema_text(PROFILE_SCHEMA)
    )


# -- peer profiles ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED_PROFILES, ids=lambda path: path.stem)
def test_each_shipped_profile_loads_under_its_file_name(path: Path, suite: list[str]) -> None:
    profile = load_profile(str(path))

    assert profile.name == path.stem
    assert load_profile(path.stem) == profile
    assert set(profile.baseline) <= set(suite), "a baseline entry for no shipped scenario"


def test_validate_checks_named_profiles_too(capsys: pytest.CaptureFixture[str]) -> None:
    names = [path.stem for path in SHIPPED_PROFILES]

    code = main(["validate", *(arg for name in names for arg in ("--peer", name))])

    assert code == EXIT_OK
    assert capsys.readouterr().out.endswith(f", {len(names)} profile(s)\n")


@pytest.fixture
def reject_profile(
    write: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> Callable[[str], Rejection]:
    """Load a bad profile directly and through ``validate --peer``; both must refuse it."""

    def refuse(text: str) -> Rejection:
        path = write(text, "probe.yaml")
        with pytest.raises(SourceError) as caught:
            load_profile(str(path))
        code = main(["validate", str(SUITE), "--peer", str(path)])
        captured = capsys.readouterr()
        error = caught.value
        assert error.file == str(path)
        assert code == EXIT_USAGE
        assert (captured.out, captured.err) == ("", f"dicom-harness validate: {error}\n")
        return Rejection(str(path), error, captured.err)

    return refuse


PROFILE = """\
name: probe
sut_role: acceptor
ae_title: PROBE-SCP
capabilities:
  checks_called_ae: true
"""


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        pytest.param(
            PROFILE + "  telepathy: true\n",
            6,
            "capabilities.telepathy",
            "unknown field (allowed: association_limit",
            id="unknown-capability",
        ),
        pytest.param(
            PROFILE
            + "baseline:\n"
            + "  acceptor/reject/called-ae-unknown:\n"
            + "    verdict: failed\n",
            8,
            "baseline.acceptor/reject/called-ae-unknown.reason",
            "missing required field 'reason'",
            id="baseline-entry-without-a-reason",
        ),
        pytest.param(
            PROFILE.replace("ae_title: PROBE-SCP", "ae_title: A-TITLE-OF-17-CHARS"),
            3,
            "ae_title",
            "longer than 16 characters",
            id="ae-title-too-long",
        ),
    ],
)
def test_a_profile_error_names_file_line_and_field(
    reject_profile: Callable[[str], Rejection], text: str, line: int, field: str, reason: str
) -> None:
    rejection = reject_profile(text)

    assert rejection.location == (line, field)
    assert reason in rejection.error.reason
    assert f"{rejection.path}:{line}: {field}: " in rejection.stderr


def test_an_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(SourceError) as caught:
        load_profile("no-such-peer")

    assert caught.value.file == "no-such-peer"
    assert "builtin" in caught.value.reason
