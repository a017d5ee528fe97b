"""Drive a BottleCRM database through its ORM: one JSON command per stdin line, one answer each.

Runs inside BottleCRM's own virtual environment with ``bottle_settings`` (see there), so Django is
loaded once and every command answers in milliseconds. Commands::

    {"op": "org", "name": "Acme", "country": "US"}
        -> {"org_id", "admin_profile_id", "admin_email", "agent_profile_id", "agent_email", "token"}
    {"op": "seed", "org_id": "...", "count": 10000, "phone_prefix": "+1212", "start": 2000000}
        -> {"created": 10000}   (bulk_create, with phone_e164 set as save() would)

An answer is ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import sys
import traceback
import uuid
from typing import Any

import django  # type: ignore[import-not-found]

django.setup()

from common.models import Org, PersonalAccessToken, Profile, User  # type: ignore[import-not-found]  # noqa: E402
from common.tasks import set_rls_context  # type: ignore[import-not-found]  # noqa: E402
from contacts.models import Contact  # type: ignore[import-not-found]  # noqa: E402


def new_org(name: str, country: str = "US") -> dict[str, Any]:
    """Create an org with an ADMIN and a USER profile, and a personal access token of the admin."""
    org = Org.objects.create(name=name, default_country=country)
    set_rls_context(org.id)
    tag = uuid.uuid4().hex[:10]
    admin_user = User.objects.create(email=f"admin-{tag}@example.com", name="Ada Admin")
    admin = Profile.objects.create(
        user=admin_user, org=org, role="ADMIN", has_sales_access=True, is_organization_admin=True
    )
    agent_user = User.objects.create(email=f"agent-{tag}@example.com", name="Alan Agent")
    agent = Profile.objects.create(user=agent_user, org=org, role="USER", has_sales_access=True)
    raw, _ = PersonalAccessToken.generate(admin, "callbridge-tests")
    return {
        "org_id": str(org.id),
        "admin_profile_id": str(admin.id),
        "admin_email": admin_user.email,
        "agent_profile_id": str(agent.id),
        "agent_email": agent_user.email,
        "token": raw,
    }


def seed(
    org_id: str, count: int, phone_prefix: str = "+1212", start: int = 2_000_000
) -> dict[str, Any]:
    """Bulk-create ``count`` contacts numbered ``phone_prefix`` + 7 digits from ``start`` on."""
    org = Org.objects.get(id=org_id)
    set_rls_context(org.id)
    batch: list[Any] = []
    for index in range(count):
        e164 = f"{phone_prefix}{start + index:07d}"
        batch.append(
            Contact(
                org=org,
                first_name="Seed",
                last_name=f"{start + index:07d}",
                phone=e164,
                phone_e164=e164,
            )
        )
    Contact.objects.bulk_create(batch, batch_size=2000)
    return {"created": count}


def answer(command: dict[str, Any]) -> dict[str, Any]:
    """Run one command and return its answer."""
    op = command.pop("op")
    if op == "org":
        return new_org(**command)
    if op == "seed":
        return seed(**command)
    if op == "ping":
        return {}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    """Answer commands until stdin closes."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, **answer(json.loads(line))}
        except Exception as err:  # the caller sees every failure as an answer, never a hang
            reply = {"ok": False, "error": f"{err!r}\n{traceback.format_exc()}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
