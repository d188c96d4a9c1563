"""Step semantics: run a scenario against one store and judge every step.

Each step's outcome is accepted, rejected (the database's rules said no) or error
(anything else). After every step that could write, the kit reads the whole store
and proves what the step did: a rejected step left no trace, an accepted append
added exactly its own row, an UPDATE/DELETE attempt changed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from conformance.backends.base import Backend, Outcome, Row, Session, Store
from conformance.backends.write_forms import WriteRows
from conformance.execution.snapshot import (
    Attempt,
    Recorded,
    Snapshot,
    StoreUnreadable,
    describe_append,
    describe_step,
    describe_write,
    normalize_id,
    normalized_append,
    sent_row,
    short,
)
from conformance.results.outcome import ScenarioResult, StepReport, bounded
from conformance.scenario.objects import (
    Append,
    AppendStep,
    CheckStep,
    DefineStep,
    DeleteStep,
    IdValue,
    Literal,
    ReapplyStep,
    ReplayStep,
    Scenario,
    Step,
    Suffixed,
    Symbol,
    Target,
    TruncateStep,
    UpdateStep,
    WriteStep,
    new_uuid,
)
from conformance.spec.model import AppendRequest, StoreState, judge_rows
from conformance.spec.statements import Statement

ATOMICITY_RULE = "atomicity.no_trace"
MAX_DETAIL_LINES = 12  # of what differed; the first ones tell the story


class ScenarioRun:
    """The state of one scenario run: symbols, what was accepted, in which order."""

    def __init__(self, scenario: Scenario, store: Store, backend: Backend) -> None:
        self.scenario = scenario
        self.store = store
        self.backend = backend
        self.session: Session = store.session()
        self.sql = backend.client_statements
        self.event_ids: dict[str, str | None] = {}
        self.command_ids: dict[str, str | None] = {}
        self.recorded: dict[str, Recorded] = {}
        self.insertion_order: list[Any] = []

    def placement(self) -> dict[str, str]:
        """Where each session ran, when the store spans several servers."""
        return {"kit": self.session.where} if self.session.where else {}

    # --- helpers ------------------------------------------------------------

    def resolve(self, value: IdValue, names: dict[str, str | None]) -> str | None:
        if isinstance(value, Symbol):
            return names.setdefault(value.name, new_uuid())
        if isinstance(value, Literal):
            return value.value
        if isinstance(value, Suffixed):
            return f"{names.setdefault(value.name, new_uuid())}{value.suffix}"
        return new_uuid()

    @staticmethod
    def bind(name: str | None, value: str | None, names: dict[str, str | None]) -> str | None:
        """`id: x` with a literal `eventId:` makes x stand for that literal from here on."""
        if name is not None:
            names[name] = value
        return value

    def attempt(
        self, statement: str, params: Sequence[Any], session: Session | None = None
    ) -> Attempt:
        target = session or self.session
        return self.guarded(lambda: target.execute(statement, params), statement, params)

    def guarded(
        self, work: Callable[[], list[Row]], statement: str, params: Sequence[Any] = ()
    ) -> Attempt:
        """Run `work`; a database error becomes the outcome the backend classifies it as."""
        try:
            rows = work()
        except Exception as exc:
            outcome = self.backend.classify(exc)
            if outcome is None:
                raise
            return Attempt(outcome, [], self.backend.describe(exc), statement, tuple(params))
        return Attempt(Outcome.ACCEPTED, rows, None, statement, tuple(params))

    def snapshot(self) -> Snapshot:
        events = self.read(self.sql.read_events)
        definitions = self.read(self.sql.read_definitions)
        return Snapshot(Counter(events), Counter(definitions))

    def read(self, statement: Statement | None) -> list[Row]:
        """Every row a whole-store read returns (none for a table the DDL lacks)."""
        if statement is None:
            return []
        read = self.attempt(statement.sql, ())
        if read.outcome is not Outcome.ACCEPTED:
            raise StoreUnreadable(f"{read.sql}: {read.error}")
        return [tuple(row) for row in read.rows]

    def report(
        self, step: Step, summary: str, expected: str, attempt: Attempt | None, **kw: Any
    ) -> StepReport:
        passed = kw.pop("passed")
        violated = kw.pop("violated", None)
        if violated is None:
            violated = () if passed else (step.rules or self.scenario.rules)
        actual = kw.pop("actual", attempt.outcome.value if attempt else "")
        error = kw.pop("error", attempt.error if attempt else None)
        errored = kw.pop("errored", attempt is not None and attempt.outcome is Outcome.ERROR)
        detail = kw.pop("detail", "")
        return StepReport(
            location=step.location,
            summary=summary,
            expected=expected,
            actual=actual,
            passed=passed,
            violated=tuple(violated),
            error=None if error is None else bounded(error),
            detail="\n".join(bounded(line) for line in detail.splitlines()[:MAX_DETAIL_LINES]),
            errored=errored or actual == "error",
            sql=attempt.sql if attempt else None,
            params=attempt.params if attempt else None,
            **kw,
        )

    def judge_write(
        self,
        step: Step,
        summary: str,
        expected: str,
        attempt: Attempt,
        before: Snapshot,
        after: Snapshot,
        wanted: Snapshot | None,
    ) -> StepReport:
        """accepted: the store now equals `wanted`; rejected: the store equals `before`."""
        if expected == "rejected":
            if attempt.outcome is Outcome.REJECTED and after != before:
                return self.report(
                    step,
                    summary,
                    expected,
                    attempt,
                    passed=False,
                    actual="rejected, but the store changed",
                    violated=(ATOMICITY_RULE,),
                    detail=before.diff(after),
                )
            return self.report(
                step,
                summary,
                expected,
                attempt,
                passed=attempt.outcome is Outcome.REJECTED,
                detail=before.diff(after),
            )
        if attempt.outcome is not Outcome.ACCEPTED:
            return self.report(step, summary, expected, attempt, passed=False)
        if after != wanted:
            assert wanted is not None
            return self.report(
                step,
                summary,
                expected,
                attempt,
                passed=False,
                actual="accepted, but the store does not hold what was sent",
                detail=wanted.diff(after),
            )
        return self.report(step, summary, expected, attempt, passed=True)

    # --- steps --------------------------------------------------------------

    def define(self, step: DefineStep) -> StepReport:
        summary = f"define {step.entity!r}/{step.event!r}"
        before = self.snapshot()
        assert self.sql.define is not None  # a profile without definitions skips the scenario
        values = {"entity": step.entity, "event": step.event}
        attempt = self.attempt(self.sql.define.sql, self.sql.define.bind(values))
        after = self.snapshot()
        pair = (step.entity, step.event)
        wanted = Snapshot(before.events, before.definitions.copy())
        wanted.definitions[pair] = 1
        return self.judge_write(step, summary, step.expect, attempt, before, after, wanted)

    def append_statement(self, a: Append) -> tuple[Statement, dict[str, Any], str | None]:
        """(statement, values by spec name, eventId) of an append, with its symbols resolved.

        When the database makes the eventId, none is sent and the eventId is None until
        the statement returns it (see `returned_id`)."""
        values: dict[str, Any] = {"entity": a.entity, "entityKey": a.entity_key,
                                  "event": a.event, "data": a.data}  # fmt: skip
        event_id = None
        if self.sql.client_event_ids:
            event_id = self.bind(a.name, self.resolve(a.event_id, self.event_ids), self.event_ids)
            values["eventId"] = event_id
        values["commandId"] = self.bind(
            a.command_name, self.resolve(a.command_id, self.command_ids), self.command_ids
        )
        if a.previous_id is None:
            return self.sql.append_first, values, event_id
        values["previousId"] = self.resolve(a.previous_id, self.event_ids)
        return self.sql.append_next, values, event_id

    def returned_id(self, a: Append, attempt: Attempt, sent: Any) -> Any:
        """The eventId of an accepted append: the one sent, or the one the database made
        (the first column of the first row the statement returned), bound to the step's
        symbolic id."""
        if self.sql.client_event_ids or attempt.outcome is not Outcome.ACCEPTED:
            return sent
        made = normalize_id(attempt.rows[0][0]) if attempt.rows and attempt.rows[0] else None
        if a.name is not None and made is not None:
            self.event_ids[a.name] = made
        return made

    def append(self, step: AppendStep) -> StepReport:
        a = step.append
        statement, values, sent_id = self.append_statement(a)
        before = self.snapshot()
        attempt = self.attempt(statement.sql, statement.bind(values))
        event_id = self.returned_id(a, attempt, sent_id)
        after = self.snapshot()
        report = (
            self.judge_write(step, describe_append(a), step.expect, attempt, before, after, None)
            if step.expect == "rejected" or attempt.outcome is not Outcome.ACCEPTED
            else self.judge_accepted_append(step, attempt, before, after, values, event_id)
        )
        if step.expect == "accepted" and attempt.outcome is not Outcome.ACCEPTED:
            report = self.blamed(report, statement, values)
        if report.passed and step.expect == "accepted":
            self.insertion_order.append(normalize_id(event_id))
            if a.name:
                self.recorded[a.name] = Recorded(a.event, a.data, normalize_id(event_id))
        return report

    def blamed(
        self, report: StepReport, statement: Statement, values: dict[str, Any]
    ) -> StepReport:
        """A valid append was refused: find the rule the refusal breaks by sending it again
        with one value changed; the first change the store accepts names the rule."""
        for name, value, rule, why in _one_value_changed(values):
            retried = self.attempt(statement.sql, statement.bind({**values, name: value}))
            if retried.outcome is Outcome.ACCEPTED:
                evidence = (
                    f"blame: the same append with {name} {short(value)} instead of "
                    f"{short(values[name])} was accepted, so {why} ({rule})"
                )
                detail = "\n".join(filter(None, [evidence, report.detail]))
                return replace(report, violated=(rule,), detail=detail)
        return report

    def judge_accepted_append(
        self,
        step: AppendStep,
        attempt: Attempt,
        before: Snapshot,
        after: Snapshot,
        values: dict[str, Any],
        event_id: Any,
    ) -> StepReport:
        summary = describe_append(step.append)
        added = after.events - before.events
        removed = before.events - after.events
        sent = sent_row(values, event_id)
        stored = [normalized_append(list(row[:7])) for row in added.elements()]
        ok = not removed and stored == [sent] and after.definitions == before.definitions
        if ok:
            return self.report(step, summary, "accepted", attempt, passed=True)
        return self.report(
            step,
            summary,
            "accepted",
            attempt,
            passed=False,
            actual="accepted, but the store does not hold exactly the row sent",
            detail=before.diff(after) or "no row was added",
        )

    def write_values(self, a: Append, with_previous: bool) -> dict[str, Any]:
        """One row of a write step by spec name, its symbols resolved as an append's are."""
        event_id = self.bind(a.name, self.resolve(a.event_id, self.event_ids), self.event_ids)
        values: dict[str, Any] = {"entity": a.entity, "entityKey": a.entity_key,
                                  "event": a.event, "data": a.data, "eventId": event_id}  # fmt: skip
        values["commandId"] = self.bind(
            a.command_name, self.resolve(a.command_id, self.command_ids), self.command_ids
        )
        if with_previous:
            previous = a.previous_id
            values["previousId"] = (
                None if previous is None else self.resolve(previous, self.event_ids)
            )
        return {**values, **dict(a.supplied)}

    def write(self, step: WriteStep) -> StepReport:
        """Send the rows in the step's form; judge what the store holds afterwards."""
        with_previous = any(a.previous_id is not None for a in step.appends)
        rows = tuple(self.write_values(a, with_previous) for a in step.appends)
        columns = tuple(rows[0])
        sql = self.backend.write_statement(
            step.form, WriteRows(self.backend.profile, columns, rows), step.on
        )
        before = self.snapshot()
        if sql.copy_rows is not None:
            copy_rows = sql.copy_rows
            attempt = self.guarded(
                lambda: _no_rows(lambda: self.session.copy(sql.sql, copy_rows)), sql.sql
            )
        else:
            attempt = self.attempt(sql.sql, sql.params)
        after = self.snapshot()
        report = self.judge_written(step, attempt, before, after, rows)
        if report.passed and attempt.outcome is Outcome.ACCEPTED and step.expect != "unchanged":
            for a, values in zip(step.appends, rows, strict=True):
                self.insertion_order.append(normalize_id(values["eventId"]))
                if a.name:
                    self.recorded[a.name] = Recorded(
                        a.event, a.data, normalize_id(values["eventId"])
                    )
        return report

    def judge_written(
        self,
        step: WriteStep,
        attempt: Attempt,
        before: Snapshot,
        after: Snapshot,
        rows: tuple[dict[str, Any], ...],
    ) -> StepReport:
        summary = describe_write(step)
        if step.expect == "rejected" or (
            step.expect in ("assigned", "exact") and attempt.outcome is Outcome.REJECTED
        ):
            return self.judge_write(step, summary, "rejected", attempt, before, after, None)
        if step.expect == "unchanged":
            unchanged = after == before and attempt.outcome is not Outcome.ERROR
            actual = ("unchanged" if after == before else "changed") + f" ({attempt.outcome.value})"
            return self.report(step, summary, "unchanged", attempt, passed=unchanged,
                               actual=actual, detail=before.diff(after),
                               violated=_only_added_blame(before, after, rows))  # fmt: skip
        if attempt.outcome is not Outcome.ACCEPTED:
            return self.report(step, summary, step.expect, attempt, passed=False)
        problems = _written_problems(before, after, rows, assigned=step.expect == "assigned")
        if not problems:
            return self.report(step, summary, step.expect, attempt, passed=True)
        return self.report(
            step,
            summary,
            step.expect,
            attempt,
            passed=False,
            actual=problems[0],
            detail="\n".join([*problems[1:], before.diff(after)]),
        )

    def replay(self, step: ReplayStep) -> StepReport:
        return self.judge_replay(step, self.replay_attempt(step.entity, step.entity_key))

    def replay_attempt(
        self, entity: str | None, entity_key: str | None, session: Session | None = None
    ) -> Attempt:
        replay = self.sql.replay
        values = {"entity": entity, "entityKey": entity_key}
        return self.attempt(replay.sql, replay.bind(values), session)

    def judge_replay(self, step: ReplayStep, attempt: Attempt) -> StepReport:
        summary = f"replay {step.entity!r}/{step.entity_key!r}"
        expected_rows = [self.recorded.get(name) for name in step.expected_events]
        expected_text = "[" + ", ".join(step.expected_events) + "]"
        if attempt.outcome is not Outcome.ACCEPTED:
            return self.report(step, summary, expected_text, attempt, passed=False)
        actual_rows = [Recorded(r[0], r[1], normalize_id(r[2])) for r in attempt.rows]
        names = {rec.event_id: name for name, rec in self.recorded.items()}
        actual_text = (
            "[" + ", ".join(names.get(r.event_id, short(r.event_id, 40)) for r in actual_rows) + "]"
        )
        passed = actual_rows == expected_rows
        detail = "" if passed else _replay_detail(expected_rows, actual_rows)
        return self.report(
            step, summary, expected_text, attempt, passed=passed, actual=actual_text, detail=detail
        )

    def target_sql(self, target: Target, column: str | None) -> tuple[str, list[Any], str]:
        """(statement, parameters, words) for an update (column given) or a delete."""
        if target.event is not None:
            event_id = self.resolve(target.event, self.event_ids)
            words = f"event {target.event.name if isinstance(target.event, Symbol) else event_id}"
            if column is None:
                return self.sql.delete_event, [event_id], words
            return self.sql.update_event[column], [event_id], words
        if target.definition is not None:
            words = f"definition {target.definition[0]!r}/{target.definition[1]!r}"
            if column is None:
                return self.sql.delete_definition, list(target.definition), words
            return self.sql.update_definition[column], list(target.definition), words
        assert target.table is not None
        words = f"every row of {target.table}"
        if column is None:
            return self.sql.delete_all[target.table], [], words
        table = (
            self.sql.update_all_events
            if target.table == "events"
            else self.sql.update_all_definitions
        )
        return table[column], [], words

    def change_attempt(
        self, step: Step, column: str | None, value: Any, target: Target, truncate: bool = False
    ) -> StepReport:
        statement, where, words = self.target_sql(target, column)
        summary = f"update {words} set {column} = {short(value)}" if column else f"delete {words}"
        if truncate:
            statement, summary = self.sql.truncate[target.table], f"truncate {target.table}"
        params = ([value] if column else []) + where
        before = self.snapshot()
        if not _targets_something(target, where, before):
            return self.report(
                step,
                summary,
                "unchanged",
                None,
                passed=False,
                violated=(),
                actual="not attempted",
                detail="the target is not in the store, so this step would prove nothing",
            )
        attempt = self.attempt(statement, params)
        after = self.snapshot()
        passed = after == before
        actual = "unchanged" if passed else "changed"
        actual += {
            Outcome.ACCEPTED: " (no error raised)",
            Outcome.REJECTED: " (rejected)",
            Outcome.ERROR: " (raised an error)",
        }[attempt.outcome]
        return self.report(
            step,
            summary,
            "unchanged",
            attempt,
            passed=passed,
            actual=actual,
            detail=before.diff(after),
        )

    def update(self, step: UpdateStep) -> StepReport:
        return self.change_attempt(step, step.column, step.value, step.target)

    def delete(self, step: DeleteStep) -> StepReport:
        return self.change_attempt(step, None, None, step.target)

    def truncate(self, step: TruncateStep) -> StepReport:
        return self.change_attempt(step, None, None, Target(table=step.table), truncate=True)

    def reapply(self, step: ReapplyStep) -> StepReport:
        summary = "apply the DDL again"
        before = self.snapshot()
        attempt = Attempt(Outcome.ACCEPTED, [], None, "(the DDL file)", ())
        try:
            self.store.reapply_ddl()
        except Exception as exc:
            if self.backend.classify(exc) is None:
                raise
            notes = " ".join(getattr(exc, "__notes__", []))
            attempt = Attempt(
                Outcome.ERROR,
                [],
                f"{notes} {self.backend.describe(exc)}".strip(),
                "(the DDL file)",
                (),
            )
        after = self.snapshot()
        if attempt.outcome is not Outcome.ACCEPTED:
            return self.report(step, summary, "accepted", attempt, passed=False)
        passed = after == before
        return self.report(
            step,
            summary,
            "accepted",
            attempt,
            passed=passed,
            actual="accepted" if passed else "accepted, but the store changed",
            detail=before.diff(after),
        )

    def check(self, step: CheckStep) -> StepReport:
        summary = f"check {step.check}"
        attempt = self.attempt(self.sql.read_events.sql, ())
        if attempt.outcome is not Outcome.ACCEPTED:
            return self.report(step, summary, "holds", attempt, passed=False)
        autopopulated = [(row[4], row[7], row[8]) for row in attempt.rows]
        problems = _autopopulation_problems(autopopulated, self.insertion_order)
        return self.report(
            step,
            summary,
            "holds",
            attempt,
            passed=not problems,
            actual="holds" if not problems else "does not hold",
            detail="\n".join(problems),
        )

    def run_steps(self, result: ScenarioResult) -> None:
        """The scenario's own steps, one after the other, up to the first failure."""
        for index, step in enumerate(self.scenario.steps):
            report = self.run_step(step)
            result.steps.append(report)
            if not report.passed:
                result.not_run = len(self.scenario.steps) - index - 1
                return

    def close(self) -> None:
        self.session.close()

    def run_step(self, step: Step) -> StepReport:
        handlers: dict[type, Callable[[Any], StepReport]] = {
            DefineStep: self.define,
            AppendStep: self.append,
            ReplayStep: self.replay,
            UpdateStep: self.update,
            DeleteStep: self.delete,
            TruncateStep: self.truncate,
            ReapplyStep: self.reapply,
            CheckStep: self.check,
            WriteStep: self.write,
        }
        try:
            return handlers[type(step)](step)
        except StoreUnreadable as exc:
            return self.report(
                step,
                describe_step(step),
                "a readable store",
                None,
                passed=False,
                actual="error",
                error=str(exc),
            )


def setup_steps(scenario: Scenario) -> list[Step]:
    """The file's definitions and history, run before the scenario's own steps."""
    file = scenario.file
    location = scenario.location
    steps: list[Step] = [
        DefineStep(location, scenario.rules, entity, event, "accepted")
        for entity, event in file.definitions
    ]
    steps += [AppendStep(h.location, scenario.rules, h.append, "accepted") for h in file.history]
    return steps


def run_setup(run: ScenarioRun, result: ScenarioResult) -> bool:
    """The file's definitions and history; False (and the rest counted as not run) on a failure."""
    steps = setup_steps(run.scenario)
    if run.sql.define is None:  # the DDL has no definitions table: names are not defined
        steps = [step for step in steps if not isinstance(step, DefineStep)]
    for index, step in enumerate(steps):
        report = replace(run.run_step(step), setup=True)
        result.steps.append(report)
        if not report.passed:
            result.not_run = len(steps) - index - 1 + len(run.scenario.steps)
            return False
    return True


VALID_DATA = "{}"


def _one_value_changed(values: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(column, new value, rule, why) for each retry of a refused valid append: plain
    data, then a fresh eventId (when the client sends one), then a fresh commandId."""
    tries = []
    data = values.get("data")
    if isinstance(data, str) and data != VALID_DATA:
        rule = "appends.empty_data" if data == "" else "replay.order_and_data"
        tries.append(("data", VALID_DATA, rule, "the store refuses data the spec allows"))
    for name, unique_rule in (("eventId", "appends.unique_event_id"),
                              ("commandId", "appends.unique_command_id")):  # fmt: skip
        if name not in values:
            continue  # the database makes it
        value = values[name]
        canonical = isinstance(value, str) and normalize_id(value) == value
        rule = unique_rule if canonical else "appends.uuid_ids"
        why = (f"it took the {name} for one already used" if canonical
               else f"it refuses a {name} that is a UUID")  # fmt: skip
        tries.append((name, new_uuid(), rule, why))
    return tries


def _targets_something(target: Target, where: list[Any], before: Snapshot) -> bool:
    if target.event is not None:
        wanted = normalize_id(where[0])
        return any(normalize_id(row[4]) == wanted for row in before.events)
    if target.definition is not None:
        return tuple(target.definition) in before.definitions
    return bool(before.events if target.table == "events" else before.definitions)


def _replay_detail(expected: list[Recorded], actual: list[Recorded]) -> str:
    lines = []
    for i in range(max(len(expected), len(actual))):
        e = expected[i] if i < len(expected) else None
        a = actual[i] if i < len(actual) else None
        if e != a:
            lines.append(f"#{i + 1}: expected {_recorded(e)}, got {_recorded(a)}")
    return "\n".join(lines[:5])


def _recorded(rec: Recorded | None) -> str:
    if rec is None:
        return "nothing"
    return f"({rec.event!r}, data={short(rec.data, 40)}, eventId={rec.event_id})"


def _autopopulation_problems(rows: list[Row], insertion_order: list[Any]) -> list[str]:
    problems = [f"eventId {r[0]}: ts is NULL" for r in rows if r[1] is None]
    problems += [f"eventId {r[0]}: sequence is NULL" for r in rows if r[2] is None]
    if problems:
        return problems[:5]
    ordered = sorted(rows, key=lambda r: r[2])
    sequences = [r[2] for r in ordered]
    if len(set(sequences)) != len(sequences):
        return [f"sequence repeats a value: {sequences}"]
    by_sequence = [normalize_id(r[0]) for r in ordered]
    if by_sequence != insertion_order:
        return [f"sequence order {by_sequence} differs from insertion order {insertion_order}"]
    return []


def _no_rows(action: Callable[[], None]) -> list[Row]:
    action()
    return []


def _only_added_blame(
    before: Snapshot, after: Snapshot, rows: tuple[dict[str, Any], ...]
) -> tuple[str, ...] | None:
    """A conflicting write that changed no stored event but was stored beside it went
    through as a plain insert: the store lacks the key it conflicts on, so blame the rules
    a plain insert of these rows breaks (None: the step's own rules)."""
    if before.events - after.events or after.events == before.events:
        return None
    try:
        state = StoreState(definitions={tuple(map(str, pair)) for pair in before.definitions})
        for row in sorted(before.events, key=lambda row: row[8]):
            state.add(_request(row))
        verdicts = judge_rows(state, [_request(sent_row(v, v["eventId"])) for v in rows])
    except (AssertionError, TypeError):  # the store holds what the model cannot: no opinion
        return None
    rules = tuple(dict.fromkeys(rule for verdict in verdicts for rule in verdict.rules))
    return rules or None


def _request(row: Sequence[Any]) -> AppendRequest:
    values = [None if v is None else v if isinstance(v, bytes) else str(v) for v in row[:7]]
    return AppendRequest(*values)


def _written_problems(
    before: Snapshot, after: Snapshot, rows: tuple[dict[str, Any], ...], assigned: bool
) -> list[str]:
    """What is wrong with the store after an accepted write: it must hold exactly the rows
    sent besides what it held, and where `assigned`, the database's own sequence (the client's only when it is the next number; after
    every earlier one) and ts in place of the supplied values."""
    added, removed = after.events - before.events, before.events - after.events
    sent = sorted(map(repr, (sent_row(values, values["eventId"]) for values in rows)))
    stored = sorted(repr(normalized_append(list(row[:7]))) for row in added.elements())
    if removed or stored != sent or after.definitions != before.definitions:
        return ["accepted, but the store does not hold exactly the rows sent"]
    if not assigned:
        return []
    last = max((row[8] for row in before.events), default=None)
    problems = []
    for row in added.elements():
        supplied = next(v for v in rows if normalize_id(v["eventId"]) == normalize_id(row[4]))
        next_number = (last or 0) + 1  # the client's value is harmless when it is this one
        if "sequence" in supplied and row[8] == supplied["sequence"] != next_number:
            problems.append(f"accepted with the client's sequence {row[8]}")
        elif last is not None and row[8] <= last:
            problems.append(f"stored with sequence {row[8]}, before the last one ({last})")
        if "ts" in supplied and str(row[7])[:10] == str(supplied["ts"])[:10]:
            problems.append(f"accepted with the client's ts {short(row[7])}")
    return problems
