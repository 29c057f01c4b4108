"""DICOM Upper Layer (PS3.8) conformance harness and simulator."""

from pathlib import Path

__version__ = "0.1.0"

#: The shipped conformance suite: one YAML scenario per file, by SUT role and area.
SUITE_DIR = Path(__file__).resolve().parent.parent / "scenarios"
