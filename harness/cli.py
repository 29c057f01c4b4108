"""The ``dicom-harness`` command line (contract in DESIGN.md, "Command line").

Exit codes: 0 no failure, 1 at least one failed scenario, 2 usage, scenario-file or
decode error, 3 the SUT could not be reached or failed its sanity association.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

_HEX_TEXT = re.compile(rb"[0-9A-Fa-f\s:]*")


class UsageError(Exception):
    """A command-line argument that cannot be used; the message names it."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors leave with EXIT_USAGE and name the argument."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _hex_to_bytes(text: bytes, origin: str) -> bytes:
    """Hex digits with optional whitespace, ``:`` separators and ``#`` comments."""
    lines = [line.split(b"#", 1)[0] for line in text.splitlines()]
    digits = re.sub(rb"[\s:]", b"", b"".join(lines))
    if len(digits) % 2:
        raise UsageError(f"{origin}: odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits.decode("ascii"))


def _is_hex_text(data: bytes) -> bool:
    body = b"".join(line.split(b"#", 1)[0] for line in data.splitlines())
    return bool(body.strip()) and _HEX_TEXT.fullmatch(body) is not None


def read_pdu_input(source: str) -> bytes:
    """The bytes named by ``decode``'s argument.

    ``-`` reads standard input (hex text or raw binary, told apart by content), an
    existing path reads that file the same way, anything else is taken as hex text.
    """
    if source == "-":
        data, origin = sys.stdin.buffer.read(), "<stdin>"
    elif os.path.isfile(source):
        with open(source, "rb") as handle:
            data, origin = handle.read(), source
    else:
        data, origin = source.encode("utf-8", "replace"), "argument HEX"
        if not _is_hex_text(data):
            raise UsageError(f"{origin}: not hex text and not an existing file: {source!r}")
    return _hex_to_bytes(data, origin) if _is_hex_text(data) else data


def cmd_decode(args: argparse.Namespace) -> int:
    """Dissect one or more concatenated PDUs (PS3.8 section 9.3) and print them."""
    from harness import pdu

    data = read_pdu_input(args.source)
    error: pdu.PDUDecodeError | None = None
    try:
        packets = pdu.dissect(data)
    except pdu.PDUDecodeError as exc:
        packets, error = exc.partial, exc
    if args.json:
        json.dump([pdu.to_dict(p) for p in packets], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        offset = 0
        for index, packet in enumerate(packets, 1):
            size = len(bytes(packet))
            print(f"# PDU {index} at byte offset {offset}: {pdu.pdu_name(packet)}, {size} bytes")
            print(pdu.describe(packet))
            offset += size
    if error is not None:
        print(f"dicom-harness decode: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options, registered in one place."""
    parser = _Parser(prog="dicom-harness", description=__doc__.splitlines()[0])
    from harness import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    decode = commands.add_parser("decode", help="dissect PDUs from hex text or binary input")
    decode.add_argument(
        "source",
        nargs="?",
        default="-",
        metavar="HEX|-|FILE",
        help="hex text, a file (hex or binary), or - for standard input (default)",
    )
    decode.add_argument("--json", action="store_true", help="print a JSON list of PDUs")
    decode.set_defaults(handler=cmd_decode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dicom-harness`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        print(f"dicom-harness {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``| head``): not an error of ours; keep Python quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
