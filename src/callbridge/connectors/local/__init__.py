"""The local CRM: records, activities, deals, tasks and notes kept in Callbridge's own database."""
