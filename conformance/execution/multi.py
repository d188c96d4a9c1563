"""Scenarios with sessions: a forced schedule of steps across connections, in the spirit
of PostgreSQL's isolation tester, and the engine-neutral race.

Steps run in file order, each on its session's thread. After each one the kit waits
until every session is idle or waiting for a lock (see sessions.py), reports a step that
waits as waiting, and goes on; the waiting step's outcome is judged when it finishes,
typically once another session commits. After every step the kit reads the committed
store on a connection of its own and compares it with what must be there: every append
accepted in autocommit or in a committed transaction, and nothing else. A rollback or a
rejection that leaves a row breaks `races.no_trace`.

A rejection may come at the append or at its transaction's COMMIT (deferred unique
constraints, multi-node engines that certify at COMMIT): an append inside a transaction
that must be rejected but that the database accepts is *due at COMMIT*, and the end of
its transaction (the scenario's rollback) is sent as COMMIT, which must then be rejected.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.backends.base import Backend, Outcome, Row, Session, Store
from conformance.errors import ScenarioError
from conformance.execution.sessions import CALL_LIMIT, Call, CallStuck, SessionPool
from conformance.execution.single import ScenarioRun
from conformance.execution.snapshot import (
    Attempt,
    Recorded,
    Snapshot,
    StoreUnreadable,
    describe_append,
    describe_step,
    normalize_id,
    normalized_append,
    row_text,
    sent_row,
)
from conformance.results.outcome import ScenarioResult, StepReport
from conformance.scenario.objects import (
    SESSION_STEPS,
    Append,
    AppendStep,
    DefineStep,
    RaceStep,
    ReplayStep,
    Scenario,
    Step,
    TransactionStep,
)
from conformance.spec.statements import Statement

NO_TRACE_RULE = "races.no_trace"
BARRIER_LIMIT = 10.0  # seconds racers ending together wait for each other

StoredRow = tuple[Any, ...]  # an event as normalized_append gives it


@dataclass(frozen=True)
class Handed:
    """A step handed to a session, with what judging its outcome needs."""

    step: Step
    in_transaction: bool = False
    values: dict[str, Any] | None = None  # an append: what it sends, by spec name
    event_id: Any = None  # the eventId it sends (None when the database makes it)


@dataclass
class Racer:
    """One append of a race, on a session of its own."""

    session: str
    append: Append
    statement: Statement
    values: dict[str, Any]
    event_id: Any  # sent, or once committed the one the database made
    calls: dict[str, Call] = field(default_factory=dict)  # read, begin, append, end

    def outcome(self, stage: str) -> Attempt | None:
        call = self.calls.get(stage)
        return call.result if call is not None and call.done else None

    @property
    def row(self) -> StoredRow:
        return sent_row(self.values, self.event_id)

    @property
    def committed(self) -> bool:
        ended, appended = self.outcome("end"), self.outcome("append")
        return bool(
            ended and appended and ended.sql == "COMMIT" and ended.outcome is Outcome.ACCEPTED
        )

    @property
    def waited(self) -> bool:
        return any(call.waited for call in self.calls.values())


class ConcurrentRun(ScenarioRun):
    """A scenario run whose steps go through a pool of sessions on threads."""

    def __init__(self, scenario: Scenario, store: Store, backend: Backend) -> None:
        super().__init__(scenario, store, backend)
        self.pool = SessionPool(store)
        self.open_transactions: set[str] = set()  # begun, as handed out, and not ended
        self.pending: dict[str, list[tuple[StoredRow, Any]]] = {}  # uncommitted appends
        self.committed: Counter[StoredRow] = Counter()  # what the store must hold
        self.races = 0
        # per session: its append that must be rejected, at the latest by COMMIT
        self.rejection_due: dict[str, Call] = {}
        self.due_steps: dict[str, AppendStep] = {}  # the same, once its transaction ends

    # --- the schedule -------------------------------------------------------------

    def run_steps(self, result: ScenarioResult) -> None:
        self.committed = stored_rows(self.snapshot())
        steps = self.scenario.steps
        for index, step in enumerate(steps):
            reports = self.scheduled(step)
            result.steps.extend(reports)
            if not all(report.passed for report in reports):
                result.not_run = len(steps) - index - 1
                return
        self.fail_if_still_waiting()

    def scheduled(self, step: Step) -> list[StepReport]:
        try:
            if isinstance(step, RaceStep):
                return [self.race(step)]
            if not isinstance(step, SESSION_STEPS):
                return [self.on_own_connection(step)]
            self.pool.settle()  # the kit's own reads may have let a waiting step retry
            call = self.hand_out(step)
            self.pool.settle()
            return [*self.progress(call), *self.store_check(step)]
        except CallStuck as stuck:
            return [self.stuck(stuck.call)]
        except StoreUnreadable as exc:
            return [
                self.report(step, "read the store", "a readable store", None, passed=False,
                            actual="error", error=str(exc))
            ]  # fmt: skip

    def on_own_connection(self, step: Step) -> StepReport:
        """define, update, delete, reapply, check: no transaction is open (checked at load)."""
        self.pool.settle()
        report = self.run_step(step)
        self.committed = stored_rows(self.snapshot())
        return report

    def fail_if_still_waiting(self) -> None:
        """A step still waiting when the schedule ends waits for a lock no later step frees."""
        left = self.pool.waiting()
        if left:
            first = left[0]
            raise ScenarioError(
                f"{first.tag.step.location}: session {first.session!r} still waits for a lock "
                "when the schedule ends: no later step ends the transaction it waits for, so "
                "the schedule cannot finish"
            )

    def placement(self) -> dict[str, str]:
        return {**super().placement(), **self.pool.placement}

    def close(self) -> None:
        try:
            self.pool.close(self.open_transactions)
        finally:
            super().close()

    # --- handing out and judging ------------------------------------------------

    def hand_out(self, step: Step) -> Call:
        in_transaction = step.session in self.open_transactions
        if isinstance(step, AppendStep):
            statement, values, event_id = self.append_statement(step.append)
            handed = Handed(step, in_transaction, values, event_id)
            work = self.statement(statement.sql, statement.bind(values))
            call = self.pool.submit(step.session, work, handed)
            if in_transaction and step.expect == "rejected":
                self.rejection_due[step.session] = call
            return call
        if isinstance(step, ReplayStep):
            work = self.replay_work(step.entity, step.entity_key)
            return self.pool.submit(step.session, work, Handed(step, in_transaction))
        if isinstance(step, DefineStep):
            assert self.sql.define is not None  # a profile without definitions skips it
            values = {"entity": step.entity, "event": step.event}
            work = self.statement(self.sql.define.sql, self.sql.define.bind(values))
            return self.pool.submit(step.session, work, Handed(step, in_transaction))
        assert isinstance(step, TransactionStep)
        if step.action == "begin":
            self.open_transactions.add(step.session)
            return self.pool.submit(step.session, self.transaction("begin"), Handed(step))
        self.open_transactions.discard(step.session)
        due = self.rejection_due.pop(step.session, None)
        if due is not None:
            self.due_steps[step.session] = due.tag.step
        return self.pool.submit(step.session, self.ending(step.action, due), Handed(step))

    def ending(self, action: str, due: Call | None) -> Callable[[Session], Attempt]:
        """The end of a transaction; COMMIT instead if an append in it awaits its rejection.
        It runs on the session's thread after the append, so the append's outcome is known."""
        end = self.transaction(action)
        commit = self.transaction("commit")

        def work(session: Session) -> Attempt:
            appended = due.result if due is not None and due.done else None
            owed = isinstance(appended, Attempt) and appended.outcome is Outcome.ACCEPTED
            return commit(session) if owed else end(session)

        return work

    def statement(self, text: str, params: Iterable[Any]) -> Callable[[Session], Attempt]:
        values = tuple(params)
        return lambda session: self.attempt(text, values, session)

    def replay_work(self, entity: str | None, key: str | None) -> Callable[[Session], Attempt]:
        return lambda session: self.replay_attempt(entity, key, session)

    def transaction(
        self, action: str, start: threading.Barrier | None = None
    ) -> Callable[[Session], Attempt]:
        """Begin, commit or roll back; with `start`, once every session sharing it is
        ready to do the same, so that they do it at one moment."""

        def work(session: Session) -> Attempt:
            if start is not None:
                start.wait(BARRIER_LIMIT)
            return self.guarded(lambda: _no_rows(getattr(session, action)), action.upper())

        return work

    def progress(self, current: Call) -> list[StepReport]:
        """The current step (done or waiting), then earlier steps that finished meanwhile."""
        finished = sorted(self.pool.collect(), key=lambda call: call is not current)
        reports = [self.judge(call) for call in finished]
        for call in self.pool.newly_waiting():
            reports.insert(0 if call is current else len(reports), self.waiting_report(call))
        return reports

    def waiting_report(self, call: Call) -> StepReport:
        step = call.tag.step
        summary = f"[{call.session}] {self.describe(step)} <waiting ...>"
        expected = "no wait" if step.nowait else _expected(step)
        return self.report(step, summary, expected, None, passed=not step.nowait,
                           actual="waiting for another session's lock")  # fmt: skip

    def judge(self, call: Call) -> StepReport:
        if call.error is not None:
            raise call.error
        handed: Handed = call.tag
        step, attempt = handed.step, call.result
        if isinstance(step, ReplayStep):
            report = self.judge_replay(step, attempt)
        elif isinstance(step, AppendStep):
            report = self.judge_session_append(handed, attempt, call.session)
        elif isinstance(step, DefineStep):
            summary = f"define {step.entity!r}/{step.event!r}"
            passed = attempt.outcome.value == step.expect
            report = self.report(step, summary, step.expect, attempt, passed=passed)
        else:
            report = self.judge_transaction(step, attempt, call.session)
        summary = f"[{call.session}] {report.summary}" + (" <... completed>" if call.waited else "")
        if step.nowait and call.waited and report.passed:
            return self.report(step, summary, "no wait", attempt, passed=False,
                               actual=f"{attempt.outcome.value} after waiting for a lock")  # fmt: skip
        return _with_summary(report, summary)

    def judge_session_append(self, handed: Handed, attempt: Attempt, session: str) -> StepReport:
        step = handed.step
        assert isinstance(step, AppendStep) and handed.values is not None
        due_at_commit = (
            handed.in_transaction
            and step.expect == "rejected"
            and attempt.outcome is Outcome.ACCEPTED
        )
        passed = attempt.outcome.value == step.expect or due_at_commit
        if passed and attempt.outcome is Outcome.ACCEPTED:
            event_id = self.returned_id(step.append, attempt, handed.event_id)
            row = sent_row(handed.values, event_id)
            self.accepted(step.append, row, event_id)
            if handed.in_transaction:
                self.pending.setdefault(session, []).append((row, event_id))
            else:
                self.committed[row] += 1
        summary = describe_append(step.append)
        if due_at_commit:
            return self.report(step, f"{summary} (accepted: its rejection is due at COMMIT)",
                               step.expect, attempt, passed=True, actual="accepted")  # fmt: skip
        return self.report(step, summary, step.expect, attempt, passed=passed)

    def accepted(self, a: Append, row: StoredRow, event_id: Any) -> None:
        self.insertion_order.append(normalize_id(event_id))
        if a.name:
            self.recorded[a.name] = Recorded(a.event, a.data, normalize_id(event_id))

    def judge_transaction(self, step: Step, attempt: Attempt, session: str) -> StepReport:
        assert isinstance(step, TransactionStep)
        if step.action != "begin":
            self.end_transaction(session, attempt)
        if step.action == "rollback" and attempt.sql == "COMMIT":
            return self.judge_due_rejection(step, attempt, session)
        passed = attempt.outcome.value == step.expect
        return self.report(step, step.action, step.expect, attempt, passed=passed)

    def judge_due_rejection(
        self, step: TransactionStep, attempt: Attempt, session: str
    ) -> StepReport:
        """The COMMIT sent for an append whose rejection was due at COMMIT must be rejected."""
        due = self.due_steps.pop(session)
        summary = "rollback, sent as COMMIT: the append it ends must be rejected by now"
        if attempt.outcome is Outcome.REJECTED:
            return self.report(step, summary, "rejected", attempt, passed=True)
        actual = "committed" if attempt.outcome is Outcome.ACCEPTED else attempt.outcome.value
        return self.report(step, summary, "rejected", attempt, passed=False, actual=actual,
                           violated=due.rules or self.scenario.rules,
                           detail=f"{due.location}: {describe_append(due.append)} was "
                           "rejected neither by its append nor by its transaction's COMMIT")  # fmt: skip

    def end_transaction(self, session: str, attempt: Attempt) -> None:
        """A commit that went through makes its appends part of the store; anything else
        (rollback, or a commit the database refused) leaves none of them."""
        appends = self.pending.pop(session, [])
        kept = attempt.sql == "COMMIT" and attempt.outcome is Outcome.ACCEPTED
        for row, event_id in appends:
            if kept:
                self.committed[row] += 1
            else:
                self.insertion_order.remove(normalize_id(event_id))

    def store_check(self, step: Step) -> list[StepReport]:
        """The committed store holds exactly the appends that must be there, and each
        defined pair once, however many sessions defined it."""
        snapshot = self.snapshot()
        repeated = [pair for pair, count in snapshot.definitions.items() if count > 1]
        if repeated:
            return [
                self.report(step, "the committed definitions", "each pair once", None,
                            passed=False, actual=f"{row_text(repeated[0])} stored "
                            f"{snapshot.definitions[repeated[0]]} times",
                            violated=("definitions.idempotent",))
            ]  # fmt: skip
        actual = stored_rows(snapshot)
        if actual == self.committed:
            return []
        extra, missing = actual - self.committed, self.committed - actual
        lines = [f"events + {_row_text(row)}" for row in extra.elements()][:3]
        lines += [f"events - {_row_text(row)}" for row in missing.elements()][:3]
        return [
            self.report(
                step,
                "the committed store",
                "exactly the committed appends",
                None,
                passed=False,
                actual="rows no commit made" if extra else "committed appends missing",
                violated=(NO_TRACE_RULE,) if extra else None,
                detail="\n".join(lines),
            )
        ]

    def stuck(self, call: Call) -> StepReport:
        step = call.tag.step if isinstance(call.tag, Handed) else call.tag
        return self.report(step, f"[{call.session}] {self.describe(step)}", _expected(step), None,
                           passed=False, actual=f"still running after {CALL_LIMIT:.0f}s, "
                           "neither finished nor waiting for a lock")  # fmt: skip

    @staticmethod
    def describe(step: Step) -> str:
        return describe_step(step)

    # --- the race -------------------------------------------------------------------

    def race(self, step: RaceStep) -> StepReport:
        """Every racer replays, then begins and appends in list order, then each ends
        (commit if its append was accepted, else rollback) as soon as its append is done."""
        self.pool.settle()
        self.races += 1
        racers = [self.racer(i, a) for i, a in enumerate(step.appends, start=1)]
        streams = {(a.entity, a.entity_key) for a in step.appends}
        before = {stream: self.stream(stream) for stream in streams}
        try:
            for racer in racers:
                read = self.replay_work(racer.append.entity, racer.append.entity_key)
                racer.calls["read"] = self.pool.submit(racer.session, read, step)
            self.pool.settle()
            for racer in racers:
                begin = self.transaction("begin")
                racer.calls["begin"] = self.pool.submit(racer.session, begin, step)
                append = self.statement(racer.statement.sql, racer.statement.bind(racer.values))
                racer.calls["append"] = self.pool.submit(racer.session, append, step)
                self.pool.settle()
            self.end_racers(step, racers)
        finally:
            self.pool.collect()
            open_ = {r.session for r in racers if "end" not in r.calls}
            self.pool.retire([r.session for r in racers], open_)
        return self.race_verdict(step, racers, before)

    def racer(self, number: int, a: Append) -> Racer:
        statement, values, event_id = self.append_statement(a)
        return Racer(f"race{self.races}-{number}", a, statement, values, event_id)

    def end_racers(self, step: RaceStep, racers: list[Racer]) -> None:
        """End each racer whose append finished, first in list order, until all have.

        On a store whose writers meet only at COMMIT (`Store.commits_together`, a
        multi-primary cluster), the racers ready to end are ended at once: that is the
        race such a store must win, where no writer's changes reach the others' nodes
        before they commit too."""
        while unended := [r for r in racers if "end" not in r.calls]:
            ready = [r for r in unended if r.outcome("append") is not None]
            if not ready:
                return  # they wait for something no racer holds: judged as waiting below
            ending = ready if self.store.commits_together else ready[:1]
            start = threading.Barrier(len(ending))
            for racer in ending:
                appended = racer.outcome("append")
                accepted = appended and appended.outcome is Outcome.ACCEPTED
                end = self.transaction("commit" if accepted else "rollback", start)
                racer.calls["end"] = self.pool.submit(racer.session, end, step)
            self.pool.settle()

    def stream(self, stream: tuple[str | None, str | None]) -> list[Row]:
        read = self.replay_attempt(*stream)
        if read.outcome is not Outcome.ACCEPTED:
            raise StoreUnreadable(f"{read.sql}: {read.error}")
        return [(r[0], r[1], normalize_id(r[2])) for r in read.rows]

    def race_verdict(
        self, step: RaceStep, racers: list[Racer], before: dict[Any, list[Row]]
    ) -> StepReport:
        for racer in _in_append_order(r for r in racers if r.committed):
            appended = racer.outcome("append")
            assert appended is not None
            racer.event_id = self.returned_id(racer.append, appended, racer.event_id)
            self.committed[racer.row] += 1
            self.accepted(racer.append, racer.row, racer.event_id)
        problems = self.race_problems(step, racers, before)
        winners = [r for r in racers if r.committed]
        summary = f"race of {len(racers)} appends, expect {step.expect}"
        expected = "exactly one commits, the others are rejected" if step.expect == "one" else (
            "every one commits"
        )  # fmt: skip
        actual = f"{len(winners)} of {len(racers)} committed"
        detail = "\n".join([*problems, *(_racer_line(i, r) for i, r in enumerate(racers, 1))])
        no_trace = [p for p in problems if p.startswith("store:")]
        violated = (NO_TRACE_RULE,) if no_trace and len(no_trace) == len(problems) else None
        errored = any("raised an error" in problem for problem in problems)
        return self.report(step, summary, expected, None, passed=not problems, actual=actual,
                           detail=detail, violated=violated, errored=errored)  # fmt: skip

    def race_problems(
        self, step: RaceStep, racers: list[Racer], before: dict[Any, list[Row]]
    ) -> list[str]:
        problems = []
        for i, racer in enumerate(racers, 1):
            read = racer.outcome("read")
            stream = _stream(racer)
            if (
                read is None
                or [(r[0], r[1], normalize_id(r[2])) for r in read.rows] != before[stream]
            ):
                problems.append(f"racer {i} did not read the stream as it was before the race")
            for stage in ("begin", "append", "end"):
                attempt = racer.outcome(stage)
                if attempt is not None and attempt.outcome is Outcome.ERROR:
                    problems.append(f"racer {i}: {stage} raised an error, not a rejection")
            if racer.outcome("end") is None:
                problems.append(f"racer {i} never finished: it waits for a lock no racer frees")
        winners = sum(r.committed for r in racers)
        wanted = 1 if step.expect == "one" else len(racers)
        if winners != wanted:
            problems.append(f"{winners} committed, {wanted} must")
        problems += self.linear_streams(racers, before)
        actual = stored_rows(self.snapshot())
        if actual != self.committed:
            problems.append("store: rows differ from the committed appends "
                            f"(+{sum((actual - self.committed).values())} "
                            f"-{sum((self.committed - actual).values())})")  # fmt: skip
        return problems

    def linear_streams(self, racers: list[Racer], before: dict[Any, list[Row]]) -> list[str]:
        """Each stream replays as before the race plus its winners, in the order they ran,
        and is one line: every event's previousId is the eventId of the event before it."""
        problems = []
        events = self.snapshot().events
        for stream, rows in before.items():
            winners = _in_append_order(r for r in racers if r.committed and _stream(r) == stream)
            wanted = rows + [
                (r.append.event, r.append.data, normalize_id(r.event_id)) for r in winners
            ]
            name = f"stream {stream[0]!r}/{stream[1]!r}"
            if self.stream(stream) != wanted:
                problems.append(f"{name} does not replay as before the race plus its winners")
            fork = _fork(sorted((r for r in events if (r[0], r[1]) == stream), key=lambda r: r[8]))
            if fork:
                problems.append(f"{name} forked: {fork}")
        return problems


def _stream(racer: Racer) -> tuple[str | None, str | None]:
    return racer.append.entity, racer.append.entity_key


def _fork(chain: list[Row]) -> str:
    """Where a stream (rows in sequence order) stops being one line; empty if it never does."""
    previous = None
    for row in chain:
        event_id, previous_id = normalize_id(row[4]), normalize_id(row[6])
        if previous_id != previous:
            return (
                f"event {event_id} has previousId {previous_id}, the event before it is {previous}"
            )
        previous = event_id
    return ""


def stored_rows(snapshot: Snapshot) -> Counter[StoredRow]:
    """The events of a snapshot as appends sent them (no ts, no sequence), comparable."""
    return Counter(normalized_append(list(row[:7])) for row in snapshot.events)


def _no_rows(action: Callable[[], None]) -> list[Row]:
    action()
    return []


def _expected(step: Step) -> str:
    expect = getattr(step, "expect", "")
    return expect if isinstance(expect, str) else "the events named"


def _with_summary(report: StepReport, summary: str) -> StepReport:
    from dataclasses import replace

    return replace(report, summary=summary)


def _row_text(row: StoredRow) -> str:
    return "(" + ", ".join(repr(value) for value in row) + ")"


def _racer_line(number: int, racer: Racer) -> str:
    stages = []
    for stage in ("begin", "append", "end"):
        attempt = racer.outcome(stage)
        if attempt is None:
            stages.append(f"{stage}: never finished")
            continue
        word = attempt.sql.lower() if stage == "end" else stage
        error = f" ({attempt.error})" if attempt.error else ""
        stages.append(f"{word}: {attempt.outcome.value}{error}")
    waited = ", waited for a lock" if racer.waited else ""
    return f"racer {number} {describe_append(racer.append)}{waited}: " + "; ".join(stages)


def _in_append_order(racers: Iterable[Racer]) -> list[Racer]:
    """Racers in the order their appends finished: the order the store numbered them."""
    return sorted(racers, key=lambda racer: racer.calls["append"].finished)
