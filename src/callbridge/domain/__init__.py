"""Pure values of the call-to-CRM domain: no I/O, no web, no database."""
