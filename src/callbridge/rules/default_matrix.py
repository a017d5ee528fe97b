"""The default matrix (docs/matrix.md#the-default-matrix), as the JSON an admin would write."""

from __future__ import annotations

from typing import Any

from callbridge.rules.matrix import Matrix, parse_matrix

DEFAULT_MATRIX_JSON: dict[str, Any] = {
    "voicemail_is_missed": True,
    "deal": {
        "name_template": "Call from {phone}",
        "pipeline": None,
        "stage": None,
        "create_for_existing_without_open_deal": False,
    },
    "rules": [
        {
            "name": "incoming, new client, answered",
            "when": {"direction": "incoming", "client": "new", "outcome": "answered"},
            "actions": [
                {"type": "create_contact", "mode": "follow"},
                {"type": "create_deal", "owner": "agent"},
                {"type": "attach_recording", "to": ["contact", "deal"]},
            ],
        },
        {
            "name": "incoming, existing client, answered",
            "when": {"direction": "incoming", "client": "existing", "outcome": "answered"},
            "actions": [
                {"type": "attach_recording", "to": ["contact", "deal"]},
                {"type": "note_who_answered"},
            ],
        },
        {
            "name": "incoming, new client, missed",
            "when": {"direction": "incoming", "client": "new", "outcome": "missed"},
            "actions": [
                {"type": "create_contact", "mode": "follow"},
                {"type": "create_deal", "owner": "top_manager"},
                {
                    "type": "create_task",
                    "assignee": "top_manager",
                    "due_in_minutes": 240,
                    "title": "Call back {phone}",
                    "body": "Missed {direction} call from {phone} on {started_at}.",
                },
            ],
        },
        {
            "name": "incoming, existing client, missed",
            "when": {"direction": "incoming", "client": "existing", "outcome": "missed"},
            "actions": [
                {
                    "type": "create_task",
                    "assignee": "responsible",
                    "due_in_minutes": 240,
                    "title": "Call back {phone}",
                    "body": "Missed {direction} call from {phone} on {started_at}.",
                }
            ],
        },
        {
            "name": "outgoing, answered",
            "when": {"direction": "outgoing", "outcome": "answered"},
            "actions": [{"type": "attach_recording", "to": ["contact", "deal"]}],
        },
        {
            "name": "any, unknown employee",
            "when": {"employee": "unknown"},
            "actions": [
                {
                    "type": "create_task",
                    "assignee": "top_manager",
                    "due_in_minutes": 240,
                    "title": "Check the user mapping for {agent}",
                    "body": "{direction} call with {phone} on {started_at} ({outcome}, "
                    "{duration} s) was handled by {agent}, who is not mapped to a "
                    "CRM user. Map them in the integration's user links.",
                }
            ],
        },
    ],
}


def default_matrix() -> Matrix:
    """Return the default matrix."""
    return parse_matrix(DEFAULT_MATRIX_JSON)
