"""What Callbridge writes into BottleCRM's fields, and reads back from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callbridge.connectors.bottlecrm.mapping import (
    BODY_MAX,
    call_from_body,
    carries,
    interaction_values,
    same_number,
    split_name,
)
from callbridge.testing.contract import draft

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("answered", "connected"),
        ("missed", "no_answer"),
        ("voicemail", "voicemail"),
        ("no_answer", "no_answer"),
    ],
)
def test_each_call_status_has_its_outcome(status: str, outcome: str) -> None:
    values = interaction_values(draft("c1", status=status), "contact", NOW)
    assert (values["outcome"], values["kind"], values["contact"]) == (outcome, "call", "c1")


def test_the_body_reads_back_and_ends_with_the_marker() -> None:
    activity = draft(
        "c1",
        recording_url="https://rec.test/1.mp3",
        notes="asked for a quote\nand a call back",
        tags=("sales", "vip"),
        disposition="interested",
    )
    body = interaction_values(activity, "contact", NOW)["body"]
    assert carries(body, "callbridge:contract-1") and not carries(body, "callbridge:contract")
    assert call_from_body(body) == {
        "agent": "ann@example.com",
        "recording_url": "https://rec.test/1.mp3",
        "disposition": "interested",
        "tags": ("sales", "vip"),
        "notes": "asked for a quote\nand a call back",
        "external_id": "callbridge:contract-1",
    }


def test_long_notes_are_cut_to_keep_the_marker_within_bottlecrms_limit() -> None:
    body = interaction_values(draft("c1", notes="x" * 20_000), "contact", NOW)["body"]
    assert len(body) <= BODY_MAX and carries(body, "callbridge:contract-1")


def test_a_start_ahead_of_the_clock_is_never_sent() -> None:
    ahead = draft("c1", started_at=NOW + timedelta(minutes=10))
    assert interaction_values(ahead, "lead", NOW)["occurred_at"] == NOW.isoformat()


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("New Callbridge Contact", ("New Callbridge", "Contact")),
        ("Cher", ("Cher", "-")),
        ("", ("Unknown", "-")),
    ],
)
def test_names_split_into_first_and_last(name: str, parts: tuple[str, str]) -> None:
    assert split_name(name) == parts


def test_a_stored_number_of_another_country_is_not_the_caller() -> None:
    assert same_number("(207) 946-0958", "+12079460958", "US")
    assert not same_number("(207) 946-0958", "+442079460958", "US")
    assert same_number("ask reception", "+442079460958", "US")
