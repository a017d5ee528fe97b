"""Telephony providers: one adapter per platform, each verifying and parsing its webhooks.

:data:`PROVIDERS` maps the name used in the webhook URL (``/webhooks/{name}/{source_id}``), the
module name and the docs page (``docs/telephony/{name}.md``) to the adapter.
"""

from __future__ import annotations

from callbridge.telephony.aircall import AircallAdapter
from callbridge.telephony.base import ParsedDelivery, TelephonyAdapter
from callbridge.telephony.generic import GenericAdapter
from callbridge.telephony.ringover import RingoverAdapter
from callbridge.telephony.threecx import ThreeCxAdapter
from callbridge.telephony.twilio import TwilioAdapter

__all__ = ["PROVIDERS", "ParsedDelivery", "TelephonyAdapter"]

PROVIDERS: dict[str, TelephonyAdapter] = {
    "generic": GenericAdapter(),
    "aircall": AircallAdapter(),
    "ringover": RingoverAdapter(),
    "twilio": TwilioAdapter(),
    "3cx": ThreeCxAdapter(),
}
