"""Every refusal Callbridge says, by code: the English words and the values they name.

A route's refusal carries a stable code and its parameters beside its English message: a 422
entry as its ``type`` and ``ctx``, any other refusal as ``code`` and ``params`` beside ``detail``
(``web/refusals.py``). Programs read the code; the web UI says the refusal in the page's language
from it (``ui/refusal_words.py`` holds the words of every code here). This module imports nothing
from Callbridge, so ``rules/`` can say its problems (a matrix's) with their codes and stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The values a refusal names: JSON-friendly scalars, said as they are.
Params = Mapping[str, str | int]

#: Each refusal's English words (``str.format`` fields name its parameters).
CODES: Mapping[str, str] = {
    # Something the caller named is not the company's (404), or not found where it was looked for.
    "no_source": "no source {source_id} in this company",
    "no_provider_source": "no {provider} source {source_id} in this company",
    "no_integration": "no integration {integration_id} in this company",
    "no_team": "no team {team_id} in this company",
    "no_user": "no user {user_id} in this company",
    "no_call": "no call {call_id} in this company",
    "no_call_of_yours": "no call {call_id} of yours",
    "no_dead_job": "no dead job {job_id} in this company",
    "no_token": "no token {token_id} for user {user_id} in this company",
    "no_api_key": "no unrevoked API key {key_id} in this company",
    "no_agent_or_integration": "no such agent or integration in this company",
    "no_crm_record": "no record {record_id} in this CRM",
    "no_crm_user": "no user {crm_user_id} in this CRM",
    "no_local_record": "no record {record_id} in this integration",
    # Who may do what (401, 403).
    "missing_api_key": "missing API key: send `Authorization: Bearer cb_…`",
    "unknown_api_key": (
        "unknown or revoked API key: issue one with `callbridge company key create COMPANY`"
    ),
    "agent_token_not_key": (
        "this is an agent token: admin routes need the company API key (`Bearer cb_…`)"
    ),
    "missing_token": (
        "missing token: send `Authorization: Bearer cba_…` (agent) or the company API key"
    ),
    "unknown_token": "unknown or revoked token: ask an admin for one (POST /users/{{id}}/tokens)",
    "admin_only_for_another": "user_id: only an admin may act for another agent",
    "agent_required": "the company API key must name the agent",
    "selection_no_permission": (
        "manual contact selection is disabled: the agent's team lacks the permission "
        "'is_multicrm_sync'"
    ),
    "selection_option_off": (
        "manual contact selection is disabled: the integration option "
        "'select_contact_manually' (select the contact manually) is off"
    ),
    # Conflicts with what is stored (409).
    "stored_data_conflict": (
        "the request conflicts with data stored meanwhile (another request may have changed "
        "it): read it again, then retry"
    ),
    "team_exists": "name: a team named '{name}' already exists",
    "team_has_members": (
        "team {team_id} has members: move them to another team or delete them first"
    ),
    "user_exists": "email: a user with {email} already exists",
    "user_just_used": "user {user_id} was just given a call or token: delete them again",
    "key_revokes_itself": (
        "a key cannot revoke itself: issue a new key, then revoke this one with it"
    ),
    "integration_disabled": "integration {integration_id} is {reason}",
    "sync_running": (
        "a sync of call {call_id} is running in integration {integration_id}: disable it "
        "({disable}) so that no new sync starts, then delete it again once that sync has ended "
        "(seconds, usually)"
    ),
    "no_external_number": "the call has no external number to choose a record for",
    "not_local": (
        "integration {integration_id} is a {connector} integration; only local CRM "
        "integrations have records here"
    ),
    # A field's value the route's own rules refuse (422).
    # A value no database can store, or JSON over its limits (web/fields.py).
    "text_with_nul": "must not contain NUL (U+0000)",
    "text_with_surrogate": "must not contain a lone surrogate (U+D800 to U+DFFF)",
    "json_too_many_values": "must hold at most {limit} values",
    "json_too_deep": "must nest at most {limit} levels deep",
    "json_string_too_long": "strings must be at most {limit} characters",
    "json_not_finite": "numbers must be finite (no NaN or Infinity)",
    "json_integer_too_big": "integers must fit in 64 bits",
    "not_a_date_time": "must be a date-time such as 2026-01-31T09:00:00Z",
    "unknown_region": "unknown region '{region}': use an ISO 3166 code such as US or FR",
    "unsupported_language": "unsupported language '{language}': use one of {languages}",
    "unknown_time_zone": "unknown time zone '{zone}': use an IANA name such as Europe/Paris",
    "selection_option_not_bool": "select_contact_manually must be true or false",
    "selection_grace_range": "selection_grace_seconds must be a number of seconds, 0 to 3600",
    "unknown_connector": "unknown '{connector}'; installed: {installed}",
    "no_creation": (
        "this CRM connection cannot create contacts (the connector does not declare it, or its "
        "token lacks the scope), so the only creation policy offered is 'none'"
    ),
    "crm_refused_credentials": "the CRM refused them: {reason}",
    "credentials_malformed": "incomplete or malformed: {reason}",
    "connector_refuses_config": "the {connector} connector refuses it: {reason}",
    "generated_secret": (
        "a generic source's secret is generated by Callbridge: send no secret, and the answer "
        "holds the new one"
    ),
    "secret_required": (
        "required for a {provider} source: {secret_name} (docs/telephony/{provider}.md)"
    ),
    "not_external_number": "'{number}' is not an external phone number",
    "not_matchable_number": "'{number}' is not a matchable number ({reason})",
    "pick_a_record": "pick at least one record (or give crm_record_id)",
    "two_records_of_a_type": (
        "{field}: two {object_type} records chosen ({record_id} at choices[{first}] and "
        "{other_id}); at most one record per object type"
    ),
    "not_a_candidate": (
        "{field}: '{record_id}' is not a record of integration {integration_id} matching this "
        "number"
    ),
    "body_too_large": "body is larger than {limit} bytes",
    "request_too_large": "the request body is larger than {limit} bytes",
    # A matrix's problems, each at its field (rules/matrix.py; the UI's JSON editor too).
    "matrix_not_object": "must be an object",
    "matrix_unknown_field": "unknown field; expected one of {expected}",
    "matrix_not_list": "must be a list",
    "matrix_unknown_value": "unknown {name} {value}; expected one of {expected}",
    "matrix_action_untyped": "must be an object with a type",
    "matrix_not_bool": "must be true or false",
    "matrix_minutes": "must be a whole number of minutes, 0 to 525600",
    "matrix_text": "must be a non-empty text of 2000 characters at most",
    "matrix_targets": "must be a non-empty list of 'contact' and 'deal'",
    "matrix_text_or_null": "must be a text or null",
    "matrix_too_long": "the matrix is longer than {limit} characters",
    "matrix_not_json": "not JSON: {reason} (line {line}, column {column})",
    # The CRM or the server cannot answer now (502, 503).
    "crm_unreachable_record": "the CRM could not be asked for the record: {reason}",
    "crm_unreachable_credentials": (
        "the CRM could not be reached to test the credentials ({reason}); try again"
    ),
    "crm_unreachable_call": "the CRM could not be asked about the call ({reason}); try again",
    "crm_unreachable_users": "the CRM could not list its users: {reason}",
    "source_secret_unreadable": (
        "the server cannot read the secret of source {source_id}: it was saved with another "
        "CALLBRIDGE_SECRET_KEY. The operator must restore the key it was saved with, or rotate "
        "the source's secret; the delivery was not accepted, send it again then"
    ),
}


class Refusal(str):
    """A refusal's English message (a ``str``) carrying its ``code`` and ``params``."""

    code: str
    params: Params

    def __new__(cls, code: str, params: Params) -> Refusal:
        """Return the English words of ``code`` with ``params`` filled in."""
        made = super().__new__(cls, CODES[code].format(**params))
        made.code, made.params = code, dict(params)
        return made


def refusal(code: str, **params: str | int) -> Refusal:
    """Return the refusal ``code`` naming ``params`` (its English words, its code and values)."""
    return Refusal(code, params)
