"""The scenario file format, described once as a JSON Schema (DESIGN.md, "Scenario files").

:data:`SCENARIO_SCHEMA` is both the validator's input (:mod:`harness.schema`) and the
file shipped for editors, ``harness/schema/scenario.schema.json`` (regenerate it with
``python -m harness.scenario_format``; a test checks the shipped copy is current).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PDU_NAMES = (
    "A-ASSOCIATE-RQ",
    "A-ASSOCIATE-AC",
    "A-ASSOCIATE-RJ",
    "P-DATA-TF",
    "A-RELEASE-RQ",
    "A-RELEASE-RP",
    "A-ABORT",
)
#: DIMSE messages a step can send or expect; they travel in P-DATA-TF PDUs.
DIMSE_NAMES = ("C-ECHO-RQ", "C-ECHO-RSP", "C-STORE-RQ", "C-STORE-RSP", "C-FIND-RQ", "C-FIND-RSP")
#: A PDU of a type PS3.8 does not define (Evt19); ``set: {pdu_type: N}`` picks the type.
UNKNOWN_PDU = "unknown-pdu"
TRANSPORT_EXPECTATIONS = ("transport-closed", "transport-reset", "silence", "per-state-table")
#: A requestor SUT's trigger command ends (its exit code in ``where: {exit_code: ...}``).
SUT_EXITED = "sut-exited"
TIMER_NAMES = ("reply", "artim", "silence")
VERDICT_CHOICES = ("passed", "non-strict", "informational", "unsupported", "failed")
#: What a SUT profile may state about the SUT; a scenario ``requires`` some of them.
CAPABILITIES: Mapping[str, str] = {
    "checks_called_ae": "rejects an A-ASSOCIATE-RQ whose called AE title is not its own",
    "checks_calling_ae": "rejects an A-ASSOCIATE-RQ from a calling AE title it does not know",
    "rejects_application_context": "rejects an application context name it does not know",
    "async_ops": "negotiates the asynchronous operations window (53H, PS3.7 D.3.3.3)",
    "role_selection": "answers SCP/SCU role selection (54H, PS3.7 D.3.3.4)",
    "user_identity": "handles user identity negotiation (58H/59H, PS3.7 D.3.3.7)",
    "extended_negotiation": "answers SOP class extended negotiation (56H, PS3.7 D.3.3.5)",
    "initiates_release": "releases the association itself (A-RELEASE-RQ, PS3.8 7.2)",
    "storage": "accepts C-STORE as a storage SCP (PS3.4 Annex B)",
    "association_limit": "limits concurrent associations (A-ASSOCIATE-RJ 2/3/2)",
    "sends_c_echo": "as requestor, sends one C-ECHO-RQ once associated, then releases "
    "(PS3.7 9.1.5)",
    "sends_c_store": "as requestor, sends C-STORE-RQ once associated (PS3.7 9.1.1)",
    "slow_user": "its user takes longer than the profile's `silence` timer to answer an "
    "A-ASSOCIATE or A-RELEASE indication while its provider reads on, so a PDU sent "
    "meanwhile is an event in Sta3 or Sta8 (as acceptor), Sta9 (as requestor in a release "
    "collision) (PS3.8 9.2.1, Table 9-10)",
    "times_out_unanswered": "as requestor, ends a wait for an A-ASSOCIATE-AC or "
    "A-RELEASE-RP that never comes with a local A-ABORT (Evt15, AA-1; PS3.8 9.1.4 note 2) "
    "within the profile's `artim` timer",
}

_DURATION: dict[str, Any] = {
    "description": "seconds, or a named timer of the SUT profile (scaled by --timeout-scale)",
    "type": ["number", "string"],
}
_HEX: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[0-9A-Fa-f\s]*$",
    "description": "hex digits, whitespace allowed",
}
_SET: dict[str, Any] = {
    "type": "object",
    "description": "PDU fields by their PS3.8 name (see `dicom-harness decode --json`), or "
    "the association shortcuts; strings may use {sut.ae_title}-style templates",
}
_WHERE: dict[str, Any] = {
    "type": "object",
    "description": "field: value (equal), [values] (one of), or {not: value}",
}

_SEND: dict[str, Any] = {
    "type": "object",
    "required": ["send"],
    "additionalProperties": False,
    "properties": {
        "send": {"enum": [*PDU_NAMES, *DIMSE_NAMES, UNKNOWN_PDU]},
        "set": _SET,
        "length": {"type": "integer", "minimum": 0, "description": "PDU-length as sent"},
        "truncate": {"type": "integer", "minimum": 0, "description": "send only N bytes"},
        "append": {**_HEX, "description": "bytes added after the PDU"},
        "split": {
            "description": "N TCP writes of equal size, or a list of write sizes",
            "type": ["integer", "array"],
            "minimum": 1,
            "items": {"type": "integer", "minimum": 1},
        },
        "pause": {"type": "number", "minimum": 0, "description": "seconds between writes"},
        "max_length": {
            "type": "integer",
            "minimum": 0,
            "description": "DIMSE: fragment to this P-DATA-TF length (default: the SUT's)",
        },
    },
}
_RAW: dict[str, Any] = {
    "type": "object",
    "required": ["raw"],
    "additionalProperties": False,
    "properties": {
        "raw": {**_HEX, "description": "send exactly these bytes"},
        "split": _SEND["properties"]["split"],
        "pause": _SEND["properties"]["pause"],
    },
}
_COALESCE: dict[str, Any] = {
    "type": "object",
    "required": ["coalesce"],
    "additionalProperties": False,
    "properties": {
        "coalesce": {
            "type": "array",
            "minItems": 2,
            "items": {"oneOf": [{"$ref": "#/$defs/send"}, {"$ref": "#/$defs/raw"}]},
            "description": "several PDUs sent in one TCP write",
        }
    },
}
_EXPECT_BODY: dict[str, Any] = {
    "expect": {"enum": [*PDU_NAMES, *DIMSE_NAMES, *TRANSPORT_EXPECTATIONS]},
    "where": _WHERE,
    "within": _DURATION,
    "for": _DURATION,
}
_ALTERNATIVE: dict[str, Any] = {
    "type": "object",
    "required": ["expect"],
    "additionalProperties": False,
    "properties": {
        **_EXPECT_BODY,
        "verdict": {"enum": list(VERDICT_CHOICES)},
        "message": {"type": "string"},
        "then": {
            "$ref": "#/$defs/steps",
            "description": "steps run only when this alternative matched",
        },
    },
}
_EXPECT: dict[str, Any] = {
    "type": "object",
    "required": ["expect"],
    "additionalProperties": False,
    "properties": {
        **_EXPECT_BODY,
        "expect": {
            "enum": [*_EXPECT_BODY["expect"]["enum"], SUT_EXITED],
            "description": f"{SUT_EXITED} (requestor SUT): its trigger command ends `within` "
            "the time; `where: {exit_code: 0 | nonzero | [codes]}` judges how",
        },
        "verdict": {"enum": list(VERDICT_CHOICES)},
    },
}
_ANY_OF: dict[str, Any] = {
    "type": "object",
    "required": ["any_of"],
    "additionalProperties": False,
    "properties": {
        "any_of": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/alternative"}},
        "within": _DURATION,
    },
}
_WAIT: dict[str, Any] = {
    "type": "object",
    "required": ["wait"],
    "additionalProperties": False,
    "properties": {"wait": _DURATION},
}
_TRANSPORT: dict[str, Any] = {
    "type": "object",
    "required": ["transport"],
    "additionalProperties": False,
    "properties": {
        "transport": {
            "enum": ["close", "reset", "reconnect"],
            "description": "the harness closes its side (FIN) or resets it (RST), or closes"
            " it and opens a new connection to the SUT (a fresh association can follow)",
        }
    },
}
_ASSOCIATE: dict[str, Any] = {
    "type": "object",
    "required": ["associate"],
    "additionalProperties": False,
    "properties": {
        "associate": {
            "type": "object",
            "description": "send the profile's A-ASSOCIATE-RQ (`set` changes it), expect an AC",
            "additionalProperties": False,
            "properties": {"set": _SET},
        }
    },
}
_ACCEPT: dict[str, Any] = {
    "type": "object",
    "required": ["accept"],
    "additionalProperties": False,
    "properties": {
        "accept": {
            "type": "object",
            "description": "requestor SUT: expect its A-ASSOCIATE-RQ, answer with an AC "
            "accepting every context with its first transfer syntax, no 53H or 54H (`set` "
            "changes it: pc_results, max_length, async_ops_window, role_selections, "
            "implementation_class_uid, implementation_version_name, extra_items, "
            "item_order, fields)",
            "additionalProperties": False,
            "properties": {"set": _SET},
        }
    },
}
_TRIGGER: dict[str, Any] = {
    "type": "object",
    "required": ["trigger"],
    "additionalProperties": False,
    "properties": {
        "trigger": {
            "type": "object",
            "description": "requestor SUT: run its trigger command afresh and accept its new "
            "connection (ours, if open, is closed first); a scenario with trigger steps starts "
            "with one and is not triggered before its steps",
            "additionalProperties": False,
            "properties": {},
        }
    },
}
_RELEASE: dict[str, Any] = {
    "type": "object",
    "required": ["release"],
    "additionalProperties": False,
    "properties": {
        "release": {
            "type": "object",
            "description": "send A-RELEASE-RQ, expect A-RELEASE-RP, close the transport",
            "additionalProperties": False,
            "properties": {},
        }
    },
}
_REPEAT: dict[str, Any] = {
    "type": "object",
    "required": ["repeat"],
    "additionalProperties": False,
    "properties": {
        "repeat": {
            "type": "object",
            "required": ["times", "steps"],
            "additionalProperties": False,
            "properties": {
                "times": {"type": "integer", "minimum": 1, "maximum": 10000},
                "steps": {"$ref": "#/$defs/steps"},
            },
        }
    },
}

SCENARIO_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://dicom-ul-harness.invalid/scenario.schema.json",
    "title": "DICOM UL conformance scenario",
    "type": "object",
    "required": ["id", "title", "references", "requirement", "sut_role", "steps"],
    "additionalProperties": False,
    "properties": {
        "id": {
            "type": "string",
            "pattern": r"^(acceptor|requestor)(/[a-z0-9][a-z0-9.-]*)+$",
            "description": "unique, stable, path-like; used by --select and the reports",
        },
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "references": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": r"^PS3\.(7|8) "},
        },
        "requirement": {"enum": ["MUST", "SHOULD", "MAY"]},
        "sut_role": {"enum": ["acceptor", "requestor"]},
        "requires": {"type": "array", "items": {"enum": list(CAPABILITIES)}},
        "hostile": {
            "type": "boolean",
            "description": "sends hostile input: a sanity association follows its group",
        },
        "steps": {"$ref": "#/$defs/steps"},
    },
    "$defs": {
        "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        "step": {
            "oneOf": [
                {"$ref": f"#/$defs/{name}"}
                for name in (
                    "send",
                    "raw",
                    "coalesce",
                    "expect",
                    "any_of",
                    "wait",
                    "transport",
                    "associate",
                    "accept",
                    "trigger",
                    "release",
                    "repeat",
                )
            ]
        },
        "send": _SEND,
        "raw": _RAW,
        "coalesce": _COALESCE,
        "expect": _EXPECT,
        "alternative": _ALTERNATIVE,
        "any_of": _ANY_OF,
        "wait": _WAIT,
        "transport": _TRANSPORT,
        "associate": _ASSOCIATE,
        "accept": _ACCEPT,
        "trigger": _TRIGGER,
        "release": _RELEASE,
        "repeat": _REPEAT,
    },
}

SCHEMA_DIR = Path(__file__).parent / "schema"
SCHEMA_PATH = SCHEMA_DIR / "scenario.schema.json"


def schema_text(schema: Mapping[str, Any] = SCENARIO_SCHEMA) -> str:
    """A shipped JSON Schema file's exact text (the scenario schema by default)."""
    return json.dumps(schema, indent=2) + "\n"


if __name__ == "__main__":  # regenerate harness/schema/*.schema.json
    from harness.profile import PROFILE_SCHEMA, PROFILE_SCHEMA_PATH

    for path, schema in ((SCHEMA_PATH, SCENARIO_SCHEMA), (PROFILE_SCHEMA_PATH, PROFILE_SCHEMA)):
        path.write_text(schema_text(schema))
        sys.stdout.write(f"wrote {path}\n")
