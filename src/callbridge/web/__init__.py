"""What every HTTP route shares, whoever owns it: input limits (``fields``) and refusal shapes
(``refusals``), so the API, a connector's own routes and the UI answer alike."""
