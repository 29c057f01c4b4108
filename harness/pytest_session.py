"""What the pytest plugin shares with its fixtures: the settings and the SUT session.

:class:`DicomSettings` are the plugin's options, each given on the command line or as an
ini value (``pytest.ini``, ``[tool.pytest.ini_options]``); the command line wins.
:class:`DicomSession` is one per pytest process (one per xdist worker): the configured
peer profiles and the SUTs they start, each at its first use, checked with a sanity
association (PS3.8 7.1, 7.2: associate, C-ECHO, release) before any scenario runs
against an acceptor SUT.

Nothing heavy is imported at module level: a project that does not use the plugin pays
for this module only.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

if TYPE_CHECKING:
    from harness.profile import Address, Profile
    from harness.runner import RunOptions

#: The options: (command-line flag, ini name, ini type, metavar, help). The option's
#: ``dest`` is its ini name, so :func:`settings_of` reads both by one name.
OPTIONS: tuple[tuple[str, str, Literal["string", "linelist", "bool"], str | None, str], ...] = (
    (
        "--dicom-peer",
        "dicom_peer",
        "linelist",
        "PROFILE",
        "peer profile to test (a name in peers/ or a path), repeatable",
    ),
    ("--dicom-target", "dicom_target", "string", "HOST:PORT", "an SCP already listening"),
    ("--dicom-called-ae", "dicom_called_ae", "string", "AE", "the called AE title"),
    ("--dicom-calling-ae", "dicom_calling_ae", "string", "AE", "the calling AE title"),
    ("--dicom-strict", "dicom_strict", "bool", None, "a non-strict verdict fails the test"),
    (
        "--dicom-timeout-scale",
        "dicom_timeout_scale",
        "string",
        "X",
        "multiply the profile's timers by X (default 1.0)",
    ),
    (
        "--dicom-select",
        "dicom_select",
        "linelist",
        "GLOB",
        "run only scenarios whose id matches one GLOB, repeatable",
    ),
    (
        "--dicom-suite",
        "dicom_suite",
        "string",
        "DIR",
        "the scenario folder collected when pytest is given no paths "
        "(default: the shipped conformance suite)",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    """Register every option in a ``dicom`` group, each also as an ini value."""
    group = parser.getgroup("dicom", "DICOM Upper Layer conformance (dicom-ul-harness)")
    for flag, name, kind, metavar, text in OPTIONS:
        if kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=name, help=text)
        elif kind == "linelist":
            group.addoption(
                flag, action="append", default=[], dest=name, metavar=metavar, help=text
            )
        else:
            group.addoption(flag, dest=name, metavar=metavar, help=text)
        parser.addini(name, f"{text} (as {flag})", type=kind)


@dataclass(frozen=True)
class DicomSettings:
    """The plugin's options: command line first, then the ini value (pytest.ini /
    [tool.pytest.ini_options])."""

    peers: tuple[str, ...]
    target: str | None
    called_ae: str | None
    calling_ae: str | None
    strict: bool
    timeout_scale: float
    select: tuple[str, ...]
    suite: Path | None = None

    @property
    def active(self) -> bool:
        """A peer or a target is configured: only then does the plugin do anything."""
        return bool(self.peers or self.target)


def _option(config: pytest.Config, name: str) -> tuple[object, Path]:
    """The command-line value (paths in it start from the invocation folder), else the
    ini value (paths start from the ini file's folder), and that folder."""
    value = config.getoption(name)
    if value not in (None, []):
        return value, config.invocation_params.dir
    return config.getini(name), config.inipath.parent if config.inipath else config.rootpath


def _text(config: pytest.Config, name: str) -> str | None:
    value, _ = _option(config, name)
    return str(value) if value else None


def _lines(config: pytest.Config, name: str) -> tuple[tuple[str, ...], Path]:
    value, base = _option(config, name)
    return tuple(map(str, value if isinstance(value, list) else ())), base


def _profile_path(text: str, base: Path) -> str:
    """A profile given as a path (it has a suffix) made absolute from ``base``; a name as is."""
    path = Path(text)
    return str(base / path) if path.suffix and not path.is_absolute() else text


def settings_of(config: pytest.Config) -> DicomSettings:
    """Read :class:`DicomSettings` from ``config``; a bad value is a ``pytest.UsageError``."""
    peers, peers_base = _lines(config, "dicom_peer")
    scale = _text(config, "dicom_timeout_scale") or "1.0"
    try:
        timeout_scale = float(scale)
    except ValueError:
        timeout_scale = 0.0
    if timeout_scale <= 0:
        raise pytest.UsageError(f"--dicom-timeout-scale {scale!r}: expected a number above 0")
    suite, suite_base = _option(config, "dicom_suite")
    return DicomSettings(
        peers=tuple(_profile_path(p, peers_base) for p in peers),
        target=_text(config, "dicom_target"),
        called_ae=_text(config, "dicom_called_ae"),
        calling_ae=_text(config, "dicom_calling_ae"),
        strict=bool(_option(config, "dicom_strict")[0]),
        timeout_scale=timeout_scale,
        select=_lines(config, "dicom_select")[0],
        suite=suite_base / str(suite) if suite else None,
    )


class DicomSession:
    """One per pytest process (per xdist worker): the configured profiles and the SUTs
    they start, lazily."""

    def __init__(self, settings: DicomSettings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self._profiles: list[Profile] | None = None
        self._addresses: dict[str, Address] = {}
        self._failures: dict[str, BaseException] = {}
        self._running = contextlib.ExitStack()

    def profiles(self) -> list[Profile]:
        """The profiles, loaded once, in option order; the target last. A profile that
        cannot be loaded, or a malformed target, is a ``pytest.UsageError``."""
        if self._profiles is None:
            from harness.profile import parse_target, sut_profiles
            from harness.yamlsrc import SourceError

            settings = self.settings
            try:
                target = parse_target(settings.target) if settings.target else None
                self._profiles = sut_profiles(
                    settings.peers, target, settings.called_ae, settings.calling_ae
                )
            except ValueError as exc:
                raise pytest.UsageError(f"--dicom-target {exc}") from None
            except SourceError as exc:
                raise pytest.UsageError(f"--dicom-peer: {exc}") from None
        return self._profiles

    def options(self) -> RunOptions:
        """The run options every scenario of this process shares."""
        from harness.runner import RunOptions

        return RunOptions(
            timeout_scale=self.settings.timeout_scale,
            strict=self.settings.strict,
            workdir=self.workdir,
        )

    def address(self, profile: Profile) -> Address:
        """Where ``profile``'s SUT listens: started at the first call (its log in
        ``workdir``) and, for an acceptor SUT, checked by one sanity association. A
        start or sanity failure is remembered and raised again on every later call."""
        name = profile.name
        if name in self._failures:
            raise self._failures[name]
        if name not in self._addresses:
            from harness.profile import running
            from harness.runner import sanity

            try:
                address = self._running.enter_context(running(profile, self.workdir / name))
                if profile.sut_role == "acceptor":
                    sanity(profile, address, self.options(), "before its first scenario")
            except Exception as exc:
                self._failures[name] = exc
                raise
            self._addresses[name] = address
        return self._addresses[name]

    def close(self) -> None:
        """Stop every SUT this session started."""
        self._running.close()
        self._addresses.clear()


_SESSION = pytest.StashKey[DicomSession]()


def worker_id(config: pytest.Config) -> str:
    """The xdist worker's id (``gw0``...), or ``main`` without xdist."""
    workerinput: dict[str, object] = getattr(config, "workerinput", {})
    return str(workerinput.get("workerid", os.environ.get("PYTEST_XDIST_WORKER", "main")))


def start_session(config: pytest.Config, settings: DicomSettings) -> DicomSession:
    """Create this process's session; its SUT logs go to ``reports/pytest/<worker>``
    under the rootdir, a folder of its own per xdist worker."""
    session = DicomSession(settings, config.rootpath / "reports" / "pytest" / worker_id(config))
    config.stash[_SESSION] = session
    return session


def session_of(config: pytest.Config) -> DicomSession:
    """The session of this pytest process; a ``pytest.UsageError`` when no peer or
    target is configured."""
    session = config.stash.get(_SESSION, None)
    if session is None:
        raise pytest.UsageError(
            "the DICOM harness needs --dicom-peer or --dicom-target "
            "(or the ini options dicom_peer/dicom_target)"
        )
    return session


def close_session(config: pytest.Config) -> None:
    """Stop the SUTs of this process's session, if there is one."""
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()
        del config.stash[_SESSION]
