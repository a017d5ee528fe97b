"""HubSpot CRM: contacts and companies by phone, calls engagements, deals, tasks, notes, owners."""
