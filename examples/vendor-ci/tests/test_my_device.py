"""My SCP's own association rules (PS3.8 7.1, 9.3), beside the shipped conformance suite."""

from collections.abc import Callable

import pytest

from harness.pytest_fixtures import DicomPeer
from harness.results import ScenarioResult, Verdict


@pytest.mark.parametrize("calling_ae", ["DICOM-HARNESS", "OUR-MODALITY"])
def test_our_modalities_associate_echo_and_release(dicom_peer: DicomPeer, calling_ae: str) -> None:
    """Each calling AE title on our allow list gets an association, a successful C-ECHO
    and an orderly release."""
    dicom_peer.associate(calling_ae_title=calling_ae)
    assert dicom_peer.echo() == 0x0000
    dicom_peer.release()


@pytest.mark.parametrize(
    ("reason", "fields"),
    [
        ("called-ae-title-not-recognized", {"called_ae_title": "NOT-MY-SCP"}),
        ("calling-ae-title-not-recognized", {"calling_ae_title": "STRANGER"}),
    ],
)
def test_unknown_ae_titles_are_rejected(
    rejected_with: Callable[..., ScenarioResult], reason: str, fields: dict[str, str]
) -> None:
    """An AE title we do not know gets a permanent rejection, never an association."""
    result = rejected_with(reason, **fields)
    assert result.verdict is Verdict.PASSED, result.transcript_text
