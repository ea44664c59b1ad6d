"""Front ends: each parses what its platform sent, calls the core, renders neutral messages."""
