"""CRM connectors: one package per CRM, each with connector, client, mapping and config modules."""
