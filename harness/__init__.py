"""DICOM Upper Layer (PS3.8) conformance harness and simulator."""

__version__ = "0.1.0"
