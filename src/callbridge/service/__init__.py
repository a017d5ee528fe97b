"""The processes: the command line, the job worker, the job table and company bootstrap."""
