"""The words the screens say each refusal of the API with (``refusal_codes.CODES``), by code.

A route refuses with a code and its values (a 422 entry's ``type`` and ``ctx``; ``code`` and
``params`` beside any other refusal's ``detail``); ``ui/problems.said`` says it in the page's
language with these words, its values filled in. ``tests/ui/test_refusal_words.py`` fails when a
code has no words here or no French or Spanish translation.
"""

from __future__ import annotations

from collections.abc import Mapping

from callbridge.connectors.spec import N_

#: Each refusal code's words, marked for the catalogs; ``%(name)s`` is the value ``name``.
WORDS: Mapping[str, str] = {
    "no_source": N_("no source %(source_id)s in this company"),
    "no_provider_source": N_("no %(provider)s source %(source_id)s in this company"),
    "no_integration": N_("no integration %(integration_id)s in this company"),
    "no_team": N_("no team %(team_id)s in this company"),
    "no_user": N_("no user %(user_id)s in this company"),
    "no_call": N_("no call %(call_id)s in this company"),
    "no_call_of_yours": N_("no call %(call_id)s of yours"),
    "no_dead_job": N_("no dead job %(job_id)s in this company"),
    "no_token": N_("no token %(token_id)s for user %(user_id)s in this company"),
    "no_api_key": N_("no unrevoked API key %(key_id)s in this company"),
    "no_agent_or_integration": N_("no such agent or integration in this company"),
    "no_crm_record": N_("no record %(record_id)s in this CRM"),
    "no_crm_user": N_("no user %(crm_user_id)s in this CRM"),
    "no_local_record": N_("no record %(record_id)s in this integration"),
    "missing_api_key": N_("missing API key: send `Authorization: Bearer cb_…`"),
    "unknown_api_key": N_(
        "unknown or revoked API key: issue one with `callbridge company key create COMPANY`"
    ),
    "agent_token_not_key": N_(
        "this is an agent token: admin routes need the company API key (`Bearer cb_…`)"
    ),
    "missing_token": N_(
        "missing token: send `Authorization: Bearer cba_…` (agent) or the company API key"
    ),
    "unknown_token": N_("unknown or revoked token: ask an admin for one (POST /users/{id}/tokens)"),
    "admin_only_for_another": N_("user_id: only an admin may act for another agent"),
    "agent_required": N_("the company API key must name the agent"),
    "selection_no_permission": N_(
        "manual contact selection is disabled: the agent's team lacks the permission "
        "'is_multicrm_sync'"
    ),
    "selection_option_off": N_(
        "manual contact selection is disabled: the integration option 'select_contact_manually'"
        " (select the contact manually) is off"
    ),
    "stored_data_conflict": N_(
        "the request conflicts with data stored meanwhile (another request may have changed "
        "it): read it again, then retry"
    ),
    "team_exists": N_("name: a team named '%(name)s' already exists"),
    "team_has_members": N_(
        "team %(team_id)s has members: move them to another team or delete them first"
    ),
    "user_exists": N_("email: a user with %(email)s already exists"),
    "user_just_used": N_("user %(user_id)s was just given a call or token: delete them again"),
    "key_revokes_itself": N_(
        "a key cannot revoke itself: issue a new key, then revoke this one with it"
    ),
    "integration_disabled": N_("integration %(integration_id)s is %(reason)s"),
    "sync_running": N_(
        "a sync of call %(call_id)s is running in integration %(integration_id)s: disable it "
        "(%(disable)s) so that no new sync starts, then delete it again once that sync has "
        "ended (seconds, usually)"
    ),
    "no_external_number": N_("the call has no external number to choose a record for"),
    "not_local": N_(
        "integration %(integration_id)s is a %(connector)s integration; only local CRM "
        "integrations have records here"
    ),
    "text_with_nul": N_("must not contain NUL (U+0000)"),
    "text_with_surrogate": N_("must not contain a lone surrogate (U+D800 to U+DFFF)"),
    "json_too_many_values": N_("must hold at most %(limit)s values"),
    "json_too_deep": N_("must nest at most %(limit)s levels deep"),
    "json_string_too_long": N_("strings must be at most %(limit)s characters"),
    "json_not_finite": N_("numbers must be finite (no NaN or Infinity)"),
    "json_integer_too_big": N_("integers must fit in 64 bits"),
    "not_a_date_time": N_("must be a date-time such as 2026-01-31T09:00:00Z"),
    "unknown_region": N_("unknown region '%(region)s': use an ISO 3166 code such as US or FR"),
    "unsupported_language": N_("unsupported language '%(language)s': use one of %(languages)s"),
    "unknown_time_zone": N_("unknown time zone '%(zone)s': use an IANA name such as Europe/Paris"),
    "selection_option_not_bool": N_("select_contact_manually must be true or false"),
    "selection_grace_range": N_("selection_grace_seconds must be a number of seconds, 0 to 3600"),
    "unknown_connector": N_("unknown '%(connector)s'; installed: %(installed)s"),
    "no_creation": N_(
        "this CRM connection cannot create contacts (the connector does not declare it, or its "
        "token lacks the scope), so the only creation policy offered is 'none'"
    ),
    "crm_refused_credentials": N_("the CRM refused them: %(reason)s"),
    "credentials_malformed": N_("incomplete or malformed: %(reason)s"),
    "connector_refuses_config": N_("the %(connector)s connector refuses it: %(reason)s"),
    "generated_secret": N_(
        "a generic source's secret is generated by Callbridge: send no secret, and the answer "
        "holds the new one"
    ),
    "secret_required": N_(
        "required for a %(provider)s source: %(secret_name)s (docs/telephony/%(provider)s.md)"
    ),
    "not_external_number": N_("'%(number)s' is not an external phone number"),
    "not_matchable_number": N_("'%(number)s' is not a matchable number (%(reason)s)"),
    "pick_a_record": N_("pick at least one record (or give crm_record_id)"),
    "two_records_of_a_type": N_(
        "%(field)s: two %(object_type)s records chosen (%(record_id)s at choices[%(first)s] and"
        " %(other_id)s); at most one record per object type"
    ),
    "not_a_candidate": N_(
        "%(field)s: '%(record_id)s' is not a record of integration %(integration_id)s matching "
        "this number"
    ),
    "body_too_large": N_("body is larger than %(limit)s bytes"),
    "request_too_large": N_("the request body is larger than %(limit)s bytes"),
    "matrix_not_object": N_("must be an object"),
    "matrix_unknown_field": N_("unknown field; expected one of %(expected)s"),
    "matrix_not_list": N_("must be a list"),
    "matrix_unknown_value": N_("unknown %(name)s %(value)s; expected one of %(expected)s"),
    "matrix_action_untyped": N_("must be an object with a type"),
    "matrix_not_bool": N_("must be true or false"),
    "matrix_minutes": N_("must be a whole number of minutes, 0 to 525600"),
    "matrix_text": N_("must be a non-empty text of 2000 characters at most"),
    "matrix_targets": N_("must be a non-empty list of 'contact' and 'deal'"),
    "matrix_text_or_null": N_("must be a text or null"),
    "matrix_too_long": N_("the matrix is longer than %(limit)s characters"),
    "matrix_not_json": N_("not JSON: %(reason)s (line %(line)s, column %(column)s)"),
    "crm_unreachable_record": N_("the CRM could not be asked for the record: %(reason)s"),
    "crm_unreachable_credentials": N_(
        "the CRM could not be reached to test the credentials (%(reason)s); try again"
    ),
    "crm_unreachable_call": N_("the CRM could not be asked about the call (%(reason)s); try again"),
    "crm_unreachable_users": N_("the CRM could not list its users: %(reason)s"),
    "source_secret_unreadable": N_(
        "the server cannot read the secret of source %(source_id)s: it was saved with another "
        "CALLBRIDGE_SECRET_KEY. The operator must restore the key it was saved with, or rotate "
        "the source's secret; the delivery was not accepted, send it again then"
    ),
}
