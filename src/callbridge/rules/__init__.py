"""Pure, table-tested decisions: creation policy, record selection."""
