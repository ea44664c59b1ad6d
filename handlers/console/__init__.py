"""The console front end: a local workspace in a terminal, no account needed."""
