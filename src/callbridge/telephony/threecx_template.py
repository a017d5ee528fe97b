"""The 3CX CRM template of a 3CX source: the file the admin uploads into 3CX's CRM integration.

3CX's server-side CRM integration runs what the template says: its default scenario (``Id=""``)
looks the caller up (``GET /lookups/3cx/{source_id}?number=…``), its ``ReportCall`` scenario
journals each ended call (``POST /webhooks/3cx/{source_id}``, read by
:class:`callbridge.telephony.threecx.ThreeCxAdapter`). Both send the source's API key with Basic
authentication. The XML is built with ElementTree, so the URLs and the key are escaped and the
file is well-formed whatever they hold. Users' docs: ``docs/telephony/3cx.md``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

# How the template tells 3CX to pass numbers: international ones with "00", at most 20 digits
# (E.164's 15 and the prefix); the lookup and the journal read "00" as "+".
NUMBER_PREFIX = "Zeros"
NUMBER_MAX_LENGTH = "20"
BASIC_USER = "callbridge"
# Every key the journal's ``PostValues`` sends, and the 3CX variable it holds.
JOURNAL_VALUES = {
    "call_type": "[CallType]",
    "number": "[Number]",
    "agent": "[Agent]",
    "agent_email": "[AgentEmail]",
    "agent_first_name": "[AgentFirstName]",
    "agent_last_name": "[AgentLastName]",
    "duration": "[Duration]",
    "started_at": '[[CallStartTimeUTC].ToString("yyyy-MM-ddTHH:mm:ssZ")]',
    "answered_at": '[[CallEstablishedTimeUTC].ToString("yyyy-MM-ddTHH:mm:ssZ")]',
    "ended_at": '[[CallEndTimeUTC].ToString("yyyy-MM-ddTHH:mm:ssZ")]',
}
# The lookup answer's fields (``contacts[]``) and the 3CX contact output each one fills.
CONTACT_OUTPUTS = {
    "id": "EntityId",
    "first_name": "FirstName",
    "last_name": "LastName",
    "company": "CompanyName",
    "email": "Email",
    "phone": "PhoneBusiness",
    "url": "ContactUrl",
    "type": "EntityType",
}


@dataclass(frozen=True)
class TemplateFor:
    """What a source's template holds: its name, its two URLs and its API key."""

    name: str
    lookup_url: str
    journal_url: str
    api_key: str


def render(source: TemplateFor) -> bytes:
    """Return the template as UTF-8 XML bytes, with its declaration."""
    crm = ET.Element(
        "Crm",
        Country="US",
        Name=f"Callbridge {source.name}"[:100],
        Version="1",
        SupportsEmojis="false",
    )
    ET.SubElement(crm, "Number", Prefix=NUMBER_PREFIX, MaxLength=NUMBER_MAX_LENGTH)
    ET.SubElement(crm, "Connection", MaxConcurrentRequests="4")
    _parameters(ET.SubElement(crm, "Parameters"), source.api_key)
    auth = ET.SubElement(crm, "Authentication", Type="Basic")
    ET.SubElement(auth, "Value").text = f"{BASIC_USER}:[ApiKey]"
    scenarios = ET.SubElement(crm, "Scenarios")
    _lookup(ET.SubElement(scenarios, "Scenario", Id="", Type="REST"), source.lookup_url)
    _journal(ET.SubElement(scenarios, "Scenario", Id="ReportCall", Type="REST"), source)
    ET.indent(crm)
    document: bytes = ET.tostring(crm, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _parameters(parameters: ET.Element, api_key: str) -> None:
    """Declare the key (filled in) and the journaling switch, as 3CX shows them to the admin."""
    ET.SubElement(
        parameters,
        "Parameter",
        Name="ApiKey",
        Type="String",
        Parent="General Configuration",
        Editor="String",
        Title="Callbridge API key:",
        Default=api_key,
    )
    ET.SubElement(
        parameters,
        "Parameter",
        Name="ReportCallEnabled",
        Type="Boolean",
        Editor="String",
        Title="Enable call journaling",
        Default="True",
    )


def _lookup(scenario: ET.Element, url: str) -> None:
    """The contact lookup: every record matching the number, the sync's pick first."""
    ET.SubElement(
        scenario,
        "Request",
        SkipIf="",
        Url=f"{url}?number=[Number]",
        MessagePasses="0",
        RequestEncoding="UrlEncoded",
        RequestType="Get",
        ResponseType="Json",
    )
    rules = ET.SubElement(scenario, "Rules")
    ET.SubElement(rules, "Rule", Type="Any").text = "contacts.id"
    variables = ET.SubElement(scenario, "Variables")
    for field in CONTACT_OUTPUTS:
        variable = ET.SubElement(variables, "Variable", Name=_variable(field))
        variable.set("Path", f"contacts.{field}")
        ET.SubElement(variable, "Filter")
    outputs = ET.SubElement(scenario, "Outputs", AllowEmpty="false")
    for field, output in CONTACT_OUTPUTS.items():
        ET.SubElement(outputs, "Output", Type=output, Passes="0", Value=f"[{_variable(field)}]")


def _journal(scenario: ET.Element, source: TemplateFor) -> None:
    """The call journal, posted as JSON when a call ends and journaling is on."""
    request = ET.SubElement(
        scenario,
        "Request",
        SkipIf="[ReportCallEnabled]!=True",
        Url=source.journal_url,
        MessagePasses="0",
        RequestContentType="application/json",
        RequestEncoding="Json",
        RequestType="Post",
        ResponseType="Json",
    )
    values = ET.SubElement(request, "PostValues", Key="")
    for key, variable in JOURNAL_VALUES.items():
        passes = "2" if variable.startswith("[[") else "1"  # a nested expression: two passes
        value = ET.SubElement(values, "Value", Key=key, Passes=passes, Type="String")
        value.text = variable
    ET.SubElement(scenario, "Variables")
    ET.SubElement(scenario, "Outputs", AllowEmpty="true")


def _variable(field: str) -> str:
    """Name the template variable that holds a lookup answer's field."""
    return "Contact" + "".join(part.title() for part in field.split("_"))
