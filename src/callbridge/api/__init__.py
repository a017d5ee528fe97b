"""The HTTP API: webhooks, calls, integrations, the local CRM, admin and health."""
