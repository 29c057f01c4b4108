"""What the installed pytest plugin costs a project that does not use it.

Run ``.venv/bin/python benchmarks/plugin.py [--runs N]``. A temporary project with 200
trivial tests and no dicom option is collected with ``python -m pytest --collect-only -q``,
alternately with the plugin (as installed, through its ``pytest11`` entry point
``dicom_harness``) and without it (``-p no:dicom_harness``), ``--runs`` times each. The
table gives both medians, the difference, the ratio with / without, and the target: the
plugin adds under 150 ms. A second line gives the import time of ``harness.pytest_plugin``
alone, in a process that has already imported pytest (``python -X importtime``).

The exit status is 1 when the target is missed, and 2 when a collection fails or when
pytest does not load the plugin (the entry point is not installed) or loads it despite
``-p no:dicom_harness``: the two runs would then be the same and the figure meaningless.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

ENTRY_POINT = "dicom_harness"
PLUGIN_MODULE = "harness.pytest_plugin"
TARGET_MS = 150.0
TESTS = 200
TESTS_PER_FILE = 20


def write_project(root: Path) -> None:
    """A project of ``TESTS`` trivial tests in files of ``TESTS_PER_FILE``, own rootdir."""
    (root / "pytest.ini").write_text("[pytest]\n")
    for start in range(0, TESTS, TESTS_PER_FILE):
        body = "".join(
            f"def test_{n}() -> None:\n    assert {n} == {n}\n\n\n"
            for n in range(start, start + TESTS_PER_FILE)
        )
        (root / f"test_trivial_{start // TESTS_PER_FILE}.py").write_text(body)


def fail(message: str) -> NoReturn:
    """Stop the benchmark with exit status 2: the measure would mean nothing."""
    print(message, file=sys.stderr)
    sys.exit(2)


def clean_env() -> dict[str, str]:
    """This environment without the variables that would add options or plugins to pytest."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    }


def collect(root: Path, extra: list[str]) -> tuple[float, str]:
    """Wall time and output of one ``pytest --collect-only -q`` of the project, which must
    collect every test."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, *extra], cwd=root, env=clean_env(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or f"{TESTS} tests collected" not in done.stdout:
        fail(f"pytest --collect-only {' '.join(extra)} failed:\n{done.stdout}{done.stderr}")
    return elapsed, done.stdout


def loads_plugin(root: Path, extra: list[str]) -> bool:
    """Whether pytest registers the plugin module in this run (``--trace-config``)."""
    _, output = collect(root, [*extra, "--trace-config"])
    return f"<module {PLUGIN_MODULE!r}" in output


def import_seconds() -> float:
    """Cumulative import time of the plugin module, pytest already imported (-X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import pytest, {PLUGIN_MODULE}"],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == PLUGIN_MODULE:
            return int(fields[1]) / 1e6
    raise RuntimeError(f"{PLUGIN_MODULE} not in the -X importtime output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each kind (default 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_project(root)
        without_plugin = ["-p", f"no:{ENTRY_POINT}"]
        # These runs also warm up the bytecode caches and the file system.
        if not loads_plugin(root, []) or loads_plugin(root, without_plugin):
            fail(
                f"pytest does not load {PLUGIN_MODULE} through the pytest11 entry point "
                f"{ENTRY_POINT!r} (or loads it despite -p no:{ENTRY_POINT}) in "
                f"{sys.executable}: pip install -e . first (`make bench` does it)"
            )
        timings: dict[str, list[float]] = {"with": [], "without": []}
        kinds = [("with", []), ("without", without_plugin)]
        for run in range(args.runs):  # alternated, each kind first in every other pair
            for kind, extra in kinds[:: 1 if run % 2 else -1]:
                timings[kind].append(collect(root, extra)[0])
    with_ms = 1000 * statistics.median(timings["with"])
    without_ms = 1000 * statistics.median(timings["without"])
    added_ms = with_ms - without_ms
    imports_ms = 1000 * statistics.median(import_seconds() for _ in range(args.runs))
    verdict = "PASS" if added_ms < TARGET_MS else "MISS"
    print(f"pytest --collect-only -q of {TESTS} trivial tests, medians of {args.runs} runs each")
    print(f"{'with the plugin':<32} {with_ms:8.1f} ms")
    print(f"{'without (-p no:dicom_harness)':<32} {without_ms:8.1f} ms")
    print(
        f"{'added':<32} {added_ms:8.1f} ms  ratio {with_ms / without_ms:.3f}"
        f"  (target < {TARGET_MS:g} ms)  {verdict}"
    )
    print(f"{'import ' + PLUGIN_MODULE:<32} {imports_ms:8.1f} ms  (pytest already imported)")
    sys.exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    main()
