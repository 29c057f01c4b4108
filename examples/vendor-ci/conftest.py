"""What our project adds to the harness's fixtures: our device's rejection rule as a check.

The shipped suite lets an SCP accept an unknown AE title (the scenario is then
unsupported); our conformance statement says My SCP rejects it, so our tests hold it to
that with an inline scenario run by the ``dicom_scenario`` fixture.
"""

from collections.abc import Callable

import pytest

from harness.results import ScenarioResult

Check = Callable[..., ScenarioResult]


@pytest.fixture
def rejected_with(dicom_scenario: Check) -> Check:
    """``rejected_with(reason, **fields)``: an A-ASSOCIATE-RQ with ``fields`` changed must
    get an A-ASSOCIATE-RJ, rejected-permanent by the service user, with ``reason`` (PS3.8
    9.3.4, Table 9-21); returns the scenario's result."""

    def check(reason: str, **fields: str) -> ScenarioResult:
        return dicom_scenario(
            {
                "id": f"acceptor/my-scp/rejects-{reason}",
                "title": f"My SCP rejects {fields} with {reason}",
                "references": ["PS3.8 9.3.4", "PS3.8 Table 9-21"],
                "requirement": "MUST",
                "sut_role": "acceptor",
                "steps": [
                    {"send": "A-ASSOCIATE-RQ", "set": fields},
                    {
                        "expect": "A-ASSOCIATE-RJ",
                        "where": {
                            "result": "rejected-permanent",
                            "source": "service-user",
                            "reason": reason,
                        },
                    },
                ],
            }
        )

    return check
