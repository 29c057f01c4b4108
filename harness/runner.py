"""Runs scenarios against a SUT profile and turns what happened into verdicts.

Before the run, and after every group of hostile scenarios, a sanity association
(associate, C-ECHO, release) shows the SUT is alive; a SUT that cannot be reached or
fails it stops the run (exit code 3). Scenarios of one group run in parallel on
``--jobs`` threads, each on its own association. A scenario whose required capability
the profile denies is ``unsupported``; ``--strict`` makes ``non-strict`` a failure; the
profile's baseline turns an expected non-passing verdict into ``xfail`` and an
unexpected pass into ``xpass``.

A requestor SUT (``sut_role: requestor``) connects to us instead: each scenario listens
on a free loopback port, starts the profile's trigger command (before its steps, or at
each of its ``trigger`` steps), accepts the connection and records each command's exit
code and output. It has no sanity association: every scenario starts it afresh, and one
that does not connect fails on its own.

Results are appended to the report as they come, so an interrupted run still has them
(the scenarios in flight are marked ``error``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import random
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from harness.errors import HarnessError
from harness.exchange import Exchange, NotConnectedError, Timers
from harness.fsm import Event, Role, State, cell
from harness.peer import FakePeer
from harness.process import LOOPBACK, PeerProcess, PeerStartError
from harness.profile import Address, Profile, running, trigger_command
from harness.reports.run import RunReport, sut_record
from harness.results import ScenarioResult, Verdict
from harness.scenario import Scenario, parse_scenario
from harness.stimuli import Context
from harness.transcript import Transcript, TransportEvent

#: The sanity association: associate, C-ECHO, release (also the fuzzer's liveness check).
SANITY_STEPS: Final[tuple[dict[str, Any], ...]] = (
    {"associate": {}},
    {"send": "C-ECHO-RQ"},
    {"expect": "C-ECHO-RSP", "where": {"status": 0}},
    {"release": {}},
)
SANITY = parse_scenario(
    {
        "id": "acceptor/sanity/echo",
        "title": "Sanity association: associate, C-ECHO, release",
        "references": ["PS3.8 7.1", "PS3.8 7.2", "PS3.7 9.1.5"],
        "requirement": "MUST",
        "sut_role": "acceptor",
        "steps": list(SANITY_STEPS),
    },
    "<sanity association>",
)


class SanityError(HarnessError):
    """The SUT could not be reached or failed the sanity association (exit code 3)."""


@dataclass(frozen=True)
class RunOptions:
    """The run's knobs from the command line (DESIGN.md, "Command line")."""

    timeout_scale: float = 1.0
    jobs: int = 1
    strict: bool = False
    seed: int | None = None
    workdir: Path = Path("reports") / "run"


@dataclass
class Progress:
    """Counts for the live progress line; ``on_result`` is called under a lock."""

    total: int
    done: int = 0
    on_result: Callable[[ScenarioResult, int, int], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, result: ScenarioResult) -> None:
        with self.lock:
            self.done += 1
            if self.on_result is not None:
                self.on_result(result, self.done, self.total)


def select(
    scenarios: Iterable[Scenario], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Scenario]:
    """Scenarios whose id matches one ``include`` glob (all if none) and no ``exclude`` glob."""
    return [
        s
        for s in scenarios
        if (not include or any(fnmatch.fnmatchcase(s.id, g) for g in include))
        and not any(fnmatch.fnmatchcase(s.id, g) for g in exclude)
    ]


def timers_of(profile: Profile, options: RunOptions) -> Timers:
    """The profile's timers (defaults where unstated), scaled by ``--timeout-scale``."""
    return Timers(scale=options.timeout_scale, **profile.timers)


def context_of(profile: Profile, address: Address) -> Context:
    """A fresh per-association context from the profile and where the SUT listens."""
    return Context(
        sut_ae_title=profile.ae_title,
        harness_ae_title=profile.harness_ae_title,
        sut_host=address.host,
        sut_port=address.port,
        sut_max_length=profile.max_length,
        proposed=profile.presentation_contexts,
    )


def apply_baseline(result: ScenarioResult, profile: Profile, strict: bool) -> None:
    """``--strict`` first, then the baseline: xfail when it holds, xpass when it is stale."""
    if strict and result.verdict is Verdict.NON_STRICT:
        result.verdict = Verdict.FAILED
    entry = profile.baseline.get(result.id)
    if entry is None:
        return
    result.baseline_reason = entry.reason
    if str(result.verdict) == entry.verdict:
        result.verdict = Verdict.XFAIL
    elif result.verdict is Verdict.PASSED:
        result.verdict = Verdict.XPASS
        result.message = f"baseline expects {entry.verdict} ({entry.reason}) but it passed"
    else:
        result.message = f"{result.message} (baseline expects {entry.verdict}: {entry.reason})"


def run_scenario(
    scenario: Scenario, profile: Profile, address: Address, options: RunOptions
) -> ScenarioResult:
    """One scenario on one fresh association; never raises for the SUT's behaviour."""
    result = _error_result(scenario, profile)
    started = time.monotonic()
    lacking = [name for name in scenario.requires if profile.lacks(name)]
    if lacking:
        result.verdict = Verdict.UNSUPPORTED
        result.message = f"the profile says the SUT lacks {', '.join(lacking)}"
    else:
        _exchange(scenario, profile, address, options, result)
    result.duration_s = time.monotonic() - started
    apply_baseline(result, profile, options.strict)
    return result


def _exchange(
    scenario: Scenario,
    profile: Profile,
    address: Address,
    options: RunOptions,
    result: ScenarioResult,
) -> None:
    if profile.sut_role == "requestor":
        _requestor_exchange(scenario, profile, options, result)
    else:
        _acceptor_exchange(scenario, profile, address, options, result)


def _acceptor_exchange(
    scenario: Scenario,
    profile: Profile,
    address: Address,
    options: RunOptions,
    result: ScenarioResult,
) -> None:
    timers = timers_of(profile, options)
    try:
        peer = FakePeer.connect(address.host, address.port, timeout=timers.seconds("reply"))
    except OSError as exc:
        result.message = f"cannot connect to {address.host}:{address.port}: {exc}"
        return
    exchange = Exchange(scenario, peer, context_of(profile, address), timers, Role.ACCEPTOR)
    _run_exchange(exchange, result)
    _record(result, peer.transcript)


def _run_exchange(exchange: Exchange, result: ScenarioResult) -> None:
    """Run ``exchange``; a harness defect is reported as ``error``, transcript kept. A
    trigger command that cannot be started stops the run (exit code 3)."""
    try:
        outcome = exchange.run()
    except PeerStartError:
        exchange.abandon()
        raise
    except Exception as exc:  # a harness defect: report it as such, keep the transcript
        result.message = f"harness error: {exc!r}\n{traceback.format_exc()}"
        exchange.abandon()
    else:
        result.verdict = outcome.verdict
        result.message = outcome.message
        result.teardown = outcome.teardown
        result.cells = outcome.cells


def _record(result: ScenarioResult, transcript: Transcript) -> None:
    result.transcript = transcript.to_json()
    result.transcript_text = transcript.render()


def _requestor_exchange(
    scenario: Scenario, profile: Profile, options: RunOptions, result: ScenarioResult
) -> None:
    """The SUT as association-requestor: listen on a free loopback port, run the steps
    with the SUT triggered before them or at each ``trigger`` step, then record how its
    last command ended (:class:`TriggeredSut`)."""
    timers = timers_of(profile, options)
    transcript = Transcript()
    log_path = options.workdir.resolve() / profile.name / f"{scenario.id.replace('/', '.')}.log"
    with (
        socket.create_server((LOOPBACK, 0)) as listener,
        TriggeredSut(profile, listener, log_path, timers, transcript) as sut,
    ):
        context = context_of(profile, Address(LOOPBACK, sut.port))
        exchange = Exchange(scenario, None, context, timers, Role.REQUESTOR, sut=sut)
        _run_exchange(exchange, result)
    _record(result, transcript)


class TriggeredSut:
    """A requestor SUT that the profile's trigger command makes connect to ``listener``.

    Each :meth:`trigger` starts the command afresh (PS3.8 9.2: the SUT issues the
    A-ASSOCIATE request and opens the transport) and accepts its connection within the
    profile's ``connect_timeout`` (a process start, not a protocol answer, so not
    ``reply``). How each command ended (its exit code, or still running and stopped) and
    the tail of its output go into the transcript once: when a step asks
    (``sut-exited``), before the next trigger, or at the end after at most ``reply``.
    """

    def __init__(
        self,
        profile: Profile,
        listener: socket.socket,
        log_path: Path,
        timers: Timers,
        transcript: Transcript,
    ) -> None:
        self.profile = profile
        self.listener = listener
        self.port: int = listener.getsockname()[1]
        self.log_path = log_path
        self.transcript = transcript
        self.connect_timeout = profile.connect_timeout * timers.scale
        self.reply = timers.seconds("reply")
        self._processes = contextlib.ExitStack()
        self._started = 0
        self._process: PeerProcess | None = None
        self._exit_code: int | None = None
        self._recorded = False

    def trigger(self) -> FakePeer:
        """Start the command (after recording how the previous one ended) and accept."""
        self._record_exit(self.reply)
        self._process = self._processes.enter_context(
            PeerProcess(
                trigger_command(self.profile, self.port),
                log_path=self._next_log(),
                env=self.profile.trigger_env,
            )
        )
        self._recorded = False
        try:
            return FakePeer.accept(
                self.listener, timeout=self.connect_timeout, transcript=self.transcript
            )
        except OSError as exc:
            self._record_exit(0.0)
            raise NotConnectedError(
                f"the SUT did not connect to {LOOPBACK}:{self.port} within "
                f"{self.connect_timeout:g} s of its trigger ({exc or 'timed out'})"
            ) from None

    def exited(self, timeout: float) -> int | None:
        """The latest command's exit code within ``timeout``; None: it was still running."""
        self._record_exit(timeout)
        return self._exit_code

    def _next_log(self) -> Path:
        """``<scenario>.log`` for the first command, ``<scenario>.<n>.log`` after; each
        holds this run's output alone."""
        self._started += 1
        path = self.log_path
        if self._started > 1:
            path = path.with_suffix(f".{self._started}.log")
        path.unlink(missing_ok=True)
        return path

    def _record_exit(self, timeout: float) -> None:
        """Once per command: its exit code within ``timeout`` (else it is stopped) and the
        tail of its output, as a ``sut-output`` transcript event."""
        process = self._process
        if process is None or self._recorded:
            return
        self._recorded = True
        self._exit_code = process.wait(timeout)
        if self._exit_code is None:
            process.stop()
        status = (
            f"exit code {self._exit_code}"
            if self._exit_code is not None
            else f"still running after {timeout:g} s"
        )
        tail = process.log_tail(2000).strip()
        self.transcript.event(TransportEvent.SUT_OUTPUT, f"{status}\n{tail}" if tail else status)

    def __enter__(self) -> TriggeredSut:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """How the last command ended (waiting at most ``reply``, unless the run is being
        interrupted); every command stopped."""
        try:
            if exc_type is None:
                self._record_exit(self.reply)
        finally:
            self._processes.close()


def sanity(profile: Profile, address: Address, options: RunOptions, when: str) -> None:
    """Associate, C-ECHO and release; raise :class:`SanityError` if that fails."""
    result = run_scenario(SANITY, profile, address, options)
    if result.verdict is not Verdict.PASSED:
        raise SanityError(
            f"the SUT failed the sanity association {when}: {result.message}\n"
            f"{result.transcript_text}"
        )


def _groups(scenarios: list[Scenario]) -> Iterator[list[Scenario]]:
    """Consecutive scenarios of one folder; a sanity association follows a hostile group."""
    for _, group in groupby(scenarios, key=lambda s: s.folder):
        yield list(group)


def run_suite(
    scenarios: Sequence[Scenario],
    profile: Profile,
    report: RunReport,
    options: RunOptions,
    on_result: Callable[[ScenarioResult, int, int], None] | None = None,
) -> RunReport:
    """Run ``scenarios`` for ``profile`` (started and stopped here) into ``report``."""
    relevant = sorted((s for s in scenarios if s.sut_role == profile.sut_role), key=lambda s: s.id)
    if options.seed is not None:
        random.Random(options.seed).shuffle(relevant)
        relevant.sort(key=lambda s: s.folder)  # groups stay together; order inside is random
    progress = Progress(total=len(relevant), on_result=on_result)
    started = time.monotonic()
    try:
        with running(profile, options.workdir / profile.name) as address:
            report.sut = sut_record(profile, address)
            if profile.sut_role == "acceptor":  # a requestor SUT is started per scenario
                sanity(profile, address, options, "before the run")
            _Suite(profile, address, options, report, progress).run(list(_groups(relevant)))
    except PeerStartError as exc:
        raise SanityError(str(exc)) from exc
    finally:
        report.duration_s = time.monotonic() - started
        report.results.sort(key=lambda r: r.id)
        report.coverage = coverage(report.results)
    return report


@dataclass
class _Suite:
    """The parts of a run every scenario shares."""

    profile: Profile
    address: Address
    options: RunOptions
    report: RunReport
    progress: Progress

    def run(self, groups: list[list[Scenario]]) -> None:
        """Every scenario on ``--jobs`` threads; results appended as they finish.

        Groups overlap; when the last scenario of a hostile group finishes, a sanity
        association joins the queue, and its failure ends the run (exit code 3).
        """
        jobs = min(self.options.jobs, self.profile.max_jobs or self.options.jobs)
        pool = ThreadPoolExecutor(max_workers=max(jobs, 1))
        left = {index: len(group) for index, group in enumerate(groups)}
        futures: dict[Future[ScenarioResult | None], tuple[int, Scenario | None]] = {
            pool.submit(run_scenario, scenario, self.profile, self.address, self.options): (
                index,
                scenario,
            )
            for index, group in enumerate(groups)
            for scenario in group
        }
        recorded: set[Future[ScenarioResult | None]] = set()
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, scenario = futures[future]
                    result = future.result()  # a failed sanity association raises here
                    if scenario is None or result is None:
                        continue
                    recorded.add(future)
                    self.report.results.append(result)
                    self.progress.record(result)
                    left[index] -= 1
                    if left[index] == 0 and any(s.hostile for s in groups[index]):
                        when = f"after {groups[index][0].folder}"
                        check = pool.submit(self._sanity, when)
                        futures[check] = (index, None)
                        pending.add(check)
        except BaseException as exc:  # Ctrl-C/SIGTERM, or a failed sanity association
            cause = str(exc).split("\n", 1)[0]  # a sanity failure carries its transcript
            reason = (
                "interrupted before the scenario finished"
                if isinstance(exc, KeyboardInterrupt)
                else f"not finished: the run stopped ({cause})"
            )
            for future, (_, scenario) in futures.items():
                if scenario is None or future in recorded:
                    continue
                finished = future.done() and not future.cancelled() and not future.exception()
                result = future.result() if finished else None
                self.report.results.append(result or _error_result(scenario, self.profile, reason))
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _sanity(self, when: str) -> ScenarioResult | None:
        """A sanity association as a queue entry: no result of its own, or it raises.
        A requestor SUT has none: each scenario starts it anew."""
        if self.profile.sut_role == "requestor":
            return None
        sanity(self.profile, self.address, self.options, when)
        return None


def _error_result(scenario: Scenario, profile: Profile, message: str = "") -> ScenarioResult:
    """A result for ``scenario`` that stays ``error`` until something better is known."""
    return ScenarioResult(
        id=scenario.id,
        title=scenario.title,
        references=list(scenario.references),
        requirement=str(scenario.requirement),
        sut_role=scenario.sut_role,
        verdict=Verdict.ERROR,
        message=message,
        peer=profile.name,
    )


#: Cells of PS3.8 Table 9-10: 13 states x 19 events.
CELLS_TOTAL: Final = len(State) * len(Event)
#: The cells Table 9-10 defines an action for (123); the rest are blank, so an event
#: there has no action to observe and no run can exercise them.
CELLS_DEFINED: Final = sum(cell(s, e) is not None for s in State for e in Event)


def cell_coverage(cells: Iterable[Sequence[str]]) -> dict[str, Any]:
    """The PS3.8 Table 9-10 cells in ``cells`` ((state, event, action seen) triples, as
    in :attr:`ScenarioResult.cells`), as a coverage record.

    ``cells_exercised``: distinct (state, event) cells; ``cells_defined``: 123;
    ``cells_total``: 247; ``matrix``: ``{state: {event: {"action", "count", "actions"}}}``
    in table order, where ``count`` is how often the cell was taken, ``actions`` how often
    each action was seen there (an action that branches with its branch, "AE-6
    acceptable"; ``deviated``: a reaction the table does not allow; ``unobserved``: none
    seen), and ``action`` the one seen most.
    """
    seen: dict[tuple[str, str], Counter[str]] = {}
    for state, event, action in cells:
        seen.setdefault((state, event), Counter())[action] += 1
    matrix: dict[str, dict[str, dict[str, Any]]] = {}
    for state in State:
        for event in Event:
            actions = seen.get((state, event))
            if actions:
                matrix.setdefault(str(state), {})[str(event)] = {
                    "action": actions.most_common(1)[0][0],
                    "count": actions.total(),
                    "actions": dict(actions),
                }
    return {
        "cells_exercised": len(seen),
        "cells_defined": CELLS_DEFINED,
        "cells_total": CELLS_TOTAL,
        "matrix": matrix,
    }


def coverage(results: Iterable[ScenarioResult]) -> dict[str, Any]:
    """The PS3.8 Table 9-10 cells the run exercised in the SUTs (:func:`cell_coverage`),
    and ``by_role``: the distinct cells exercised in acceptor SUTs and in requestor SUTs."""
    results = list(results)
    record = cell_coverage(cell for result in results for cell in result.cells)
    record["by_role"] = {
        role: cell_coverage(
            cell for result in results if result.sut_role == role for cell in result.cells
        )["cells_exercised"]
        for role in sorted({result.sut_role for result in results})
    }
    return record


def required_cells(minimum: int | str) -> int:
    """The number of cells a coverage minimum asks for: a number of cells (``12``,
    ``"12"``), or a percentage of the 123 defined cells (``"50%"``, rounded up). Raises
    ValueError for anything else, or a number out of range."""
    text = str(minimum).strip()
    if text.endswith("%"):
        percent = float(text[:-1])
        if not 0 <= percent <= 100:
            raise ValueError(f"coverage minimum {text}: a percentage from 0% to 100%")
        return math.ceil(percent * CELLS_DEFINED / 100)
    cells = int(text)
    if not 0 <= cells <= CELLS_TOTAL:
        raise ValueError(f"coverage minimum {text}: a number of cells from 0 to {CELLS_TOTAL}")
    return cells


def coverage_shortfall(coverage: Mapping[str, Any], minimum: int | str) -> str | None:
    """Why ``coverage`` (a :func:`cell_coverage` record) is below ``minimum`` (see
    :func:`required_cells`), or None when it is not."""
    needed = required_cells(minimum)
    exercised = int(coverage["cells_exercised"])
    if exercised >= needed:
        return None
    percent = str(minimum).strip().endswith("%")
    asked = f"{needed} ({minimum} of {CELLS_DEFINED} defined)" if percent else str(needed)
    unreachable = f"; the table defines only {CELLS_DEFINED}" if needed > CELLS_DEFINED else ""
    return (
        f"PS3.8 Table 9-10 coverage below the minimum: {exercised} cells exercised, "
        f"{asked} required{unreachable}"
    )
