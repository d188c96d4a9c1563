"""Human-readable text for a failed scenario: file:line, each step, expected vs actual."""

from __future__ import annotations

from conformance.results.outcome import ScenarioResult, StepReport


def failure_text(result: ScenarioResult) -> str:
    scenario = result.scenario
    lines = [f"{scenario.location}: scenario {scenario.name!r} [{', '.join(scenario.all_rules)}]"]
    setup = [s for s in result.steps if s.setup]
    if setup and all(s.passed for s in setup):
        lines.append(f"  setup: {len(setup)} steps (definitions and history) ok")
    numbers = {True: 0, False: 0}
    for step in result.steps:
        numbers[step.setup] += 1
        if step.setup and step.passed:
            continue
        lines += _step_lines(numbers[step.setup], step)
    if result.not_run:
        lines.append(f"  ({result.not_run} later steps not run)")
    if result.placement:
        lines.append(f"  sessions: {placement_text(result.placement)}")
    violated = result.violated_rules
    if violated:
        lines.append(f"  rule broken: {', '.join(violated)}")
    return "\n".join(lines)


def placement_text(placement: dict[str, str]) -> str:
    """`kit on node1 at h:p, a on node2 at h:p`: where each session of a run ran."""
    return ", ".join(f"{session} on {where}" for session, where in placement.items())


def _step_lines(number: int, step: StepReport) -> list[str]:
    label = "setup " if step.setup else "step "
    mark = "ok" if step.passed else "FAILED"
    lines = [f"  {label}{number} {step.location}  {step.summary}  -> {mark}"]
    if step.passed:
        return lines
    lines.append(f"      expected: {step.expected}")
    lines.append(f"      actual:   {step.actual}")
    if step.error:
        lines.append(f"      database: {step.error}")
    if step.sql:
        lines.append(f"      sql:      {step.sql}")
    if step.params:
        lines.append(f"      params:   ({', '.join(_param(p) for p in step.params)})")
    lines += [f"      {line}" for line in step.detail.splitlines()]
    return lines


def _param(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:48]}...({len(str(value))} chars)"
