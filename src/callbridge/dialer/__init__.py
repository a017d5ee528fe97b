"""The agent's dialer, live: ringing calls with their candidate records, confirmed choices.

``events`` fans events out to each agent's open streams (in process, or through PostgreSQL's
``NOTIFY``). The HTTP face is :mod:`callbridge.api.dialer`; the rules are
:mod:`callbridge.rules.agent_choice`.
"""
