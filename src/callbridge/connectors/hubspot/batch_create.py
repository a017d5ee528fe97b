"""Creates of many syncs in one ``POST /crm/v3/objects/{type}/batch/create`` (up to 100 inputs).

Each input carries its associations inline and its ``objectWriteTraceId`` (the object's
``callbridge_key`` value: unique per object, so HubSpot answers 207 multi-status on partial
failures instead of failing the whole batch). Results and errors are matched back to their
inputs by that trace id (or by the key property a result shows). An input neither created nor
refused in the answer is an unsure create, like a lost answer: its claim stays for the retry to
look up. Claims are written before the batch is sent, as for a single create (``creates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callbridge.connectors.hubspot import batching, mapping
from callbridge.connectors.hubspot.client import HubSpotClient, HubSpotRejected
from callbridge.errors import Transient

OBJECTS = "/crm/v3/objects"
MAX_INPUTS = 100  # HubSpot's batch limit [DOC]
STATUS = {"CONFLICT": 409, "OBJECT_NOT_FOUND": 404, "VALIDATION_ERROR": 400}


@dataclass(frozen=True)
class Input:
    """One object to create: its key (the trace id), its properties and associations."""

    key: str
    properties: dict[str, str]
    associations: list[Any]


Outcome = str | BaseException


async def create(
    object_type: str, client: HubSpotClient, inputs: list[Input]
) -> tuple[int, list[Outcome]]:
    """Send the first MAX_INPUTS inputs in one batch; return each one's id or error."""
    batch = inputs[:MAX_INPUTS]
    unique = list({item.key: item for item in batch}.values())  # one object per key
    body = {
        "inputs": [
            {
                "properties": item.properties,
                "associations": item.associations,
                "objectWriteTraceId": item.key,
            }
            for item in unique
        ]
    }
    await batching.pay(client)
    answer = await client.request(
        "POST", f"{OBJECTS}/{object_type}/batch/create", json=body, paid=True
    )
    outcomes = split(answer)
    unsure = Transient(f"HubSpot's batch answer did not mention a {object_type} sent with it")
    return len(batch), [outcomes.get(item.key, unsure) for item in batch]


def split(answer: dict[str, Any]) -> dict[str, Outcome]:
    """Return each trace id's outcome in a batch answer: the created id, or its error."""
    outcomes: dict[str, Outcome] = {}
    for result in answer.get("results") or []:
        key = result.get("objectWriteTraceId") or (result.get("properties") or {}).get(
            mapping.UNIQUE_KEY
        )
        if key:
            outcomes[str(key)] = str(result["id"])
    for error in answer.get("errors") or []:
        for key in (error.get("context") or {}).get("objectWriteTraceId") or []:
            outcomes[str(key)] = rejected(error)
    return outcomes


def rejected(error: dict[str, Any]) -> HubSpotRejected:
    """Return one input's error as the single create's would have been."""
    category = str(error.get("category") or "")
    message = str(error.get("message") or "refused in a batch")
    return HubSpotRejected(STATUS.get(category, 400), message, error)
