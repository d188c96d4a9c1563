"""The reference model: each rule judged on its own, NULLs left to the required rules."""

from __future__ import annotations

import pytest

from conformance.spec.catalogue import load_catalogue
from conformance.spec.model import (
    APPEND_RULES,
    AppendRequest,
    DefinitionRows,
    EventRows,
    ReferenceModel,
    uuid_key,
)

E1 = "0b8c3bde-52f5-4e0b-9a3c-6b1f0b0c9d11"
E2 = "1c9d4cef-63a6-4f1c-8b4d-7c2a1c1d0e22"
C1 = "2dae5df0-74b7-4a2d-9c5e-8d3b2d2e1f33"
C2 = "3ebf6e01-85c8-4b3e-8d6f-9e4c3e3f2a44"
FRESH = "4fc07f12-96d9-4c4f-9e70-af5d4f4a3b55"
OTHER = "5ad18a23-a7ea-4d5a-8f81-b06e5a5b4c66"


def first(key: str = "o-1", **changes: str | None) -> AppendRequest:
    values = dict(
        entity="order",
        entity_key=key,
        event="created",
        data="{}",
        event_id=E1,
        command_id=C1,
        previous_id=None,
    )
    return AppendRequest(**{**values, **changes})


def model_with_one_event() -> ReferenceModel:
    model = ReferenceModel()
    for event in ("created", "paid"):
        assert model.define("order", event).accepted
    assert model.define("customer", "registered").accepted
    assert model.append(first()).accepted
    return model


def next_of(previous: str = E1, **changes: str | None) -> AppendRequest:
    values = dict(event="paid", event_id=E2, command_id=C2, previous_id=previous)
    return first(**{**values, **changes})


def test_every_rule_the_model_judges_is_catalogued() -> None:
    catalogue = load_catalogue()
    assert all(rule_id in catalogue for rule_id, _ in APPEND_RULES)


def test_a_careful_client_is_accepted_and_replays_in_order() -> None:
    model = model_with_one_event()
    assert model.append(next_of()).accepted
    assert [e.event for e in model.replay("order", "o-1")] == ["created", "paid"]
    assert model.replay("order", "o-2") == []


@pytest.mark.parametrize(
    ("request_", "rule"),
    [
        (next_of(data=None), "appends.required"),
        (next_of(event_id=None), "appends.required"),
        (next_of(event="shipped"), "appends.defined_names"),
        (next_of(event="Paid"), "appends.defined_names"),
        (next_of(event="paid "), "appends.defined_names"),
        (next_of(event="registered"), "appends.defined_names"),
        (next_of(event_id=E1.upper()), "appends.unique_event_id"),
        (next_of(command_id=C1.upper()), "appends.unique_command_id"),
        (next_of(event_id="not-a-uuid"), "appends.uuid_ids"),
        (next_of(command_id="g" + C2[1:]), "appends.uuid_ids"),
        (next_of(previous=None), "chain.first_event"),
        (next_of(previous=FRESH), "chain.previous_exists"),
        (next_of(previous="not-a-uuid"), "chain.previous_exists"),
        (next_of(entity_key="o-2"), "chain.previous_exists"),
    ],
)
def test_each_mistake_breaks_exactly_its_rule(request_: AppendRequest, rule: str) -> None:
    model = model_with_one_event()
    verdict = model.append(request_)
    assert verdict.rules == (rule,), str(verdict)
    assert len(model.state.events) == 1  # a rejection stores nothing


def test_a_stale_append_breaks_linear_only_and_in_any_case() -> None:
    model = model_with_one_event()
    assert model.append(next_of()).accepted
    stale = next_of(event_id=FRESH, command_id=FRESH, previous=E1.upper())
    assert model.append(stale).rules == ("chain.linear",)


def test_rules_are_judged_each_on_its_own() -> None:
    model = model_with_one_event()
    verdict = model.append(
        first(event="Created", event_id=E2, command_id=C2)
    )  # misspelled, and a second first event
    assert verdict.rules == ("appends.defined_names", "chain.first_event")


def test_a_null_is_only_the_required_rule_s_business() -> None:
    model = model_with_one_event()
    assert model.append(next_of(entity=None, event_id=None)).rules == ("appends.required",)
    assert model.append(first(key=None, event_id=E2, command_id=C2)).rules == ("appends.required",)


def test_ids_compare_as_uuids_and_names_exactly() -> None:
    model = model_with_one_event()
    assert model.append(next_of(previous=E1.upper())).accepted
    assert uuid_key(E1.upper()) == E1
    assert uuid_key("{" + E1 + "}") is None
    assert model.append(first(key="O-1", event_id=FRESH, command_id=FRESH)).accepted
    assert model.append(first(entity="order ", event_id=OTHER, command_id=OTHER)).rules == (
        "appends.defined_names",
    )


def test_definitions_need_both_names_and_are_idempotent() -> None:
    model = ReferenceModel()
    assert model.define(None, "created").rules == ("definitions.required",)
    assert model.define("order", "created").accepted
    assert model.define("order", "created").accepted
    assert model.state.definitions == {("order", "created")}


def test_an_update_or_delete_breaks_immutability_only_when_it_would_change_a_row() -> None:
    model = model_with_one_event()
    assert model.update(EventRows(E1.upper()), "data", "tampered").rules == ("immutability.events",)
    assert model.update(EventRows(E1), "data", "{}").accepted  # the same value: nothing changes
    assert model.update(EventRows(FRESH), "data", "x").accepted  # no such row
    assert model.update(EventRows(), "sequence", 1).rules == ("immutability.events",)
    assert model.delete(EventRows()).rules == ("immutability.events",)
    assert model.delete(DefinitionRows(("order", "paid"))).rules == ("definitions.immutable",)
    assert model.delete(DefinitionRows(("order", "nope"))).accepted
    assert model.update(DefinitionRows(), "entity", "order").rules == ("definitions.immutable",)


def test_a_copy_of_the_state_is_independent() -> None:
    model = model_with_one_event()
    copy = model.state.copy()
    assert model.append(next_of()).accepted
    assert len(copy.events) == 1 and len(model.state.events) == 2
