"""Change requests with a formal approval flow (see docs/change_requests.md). `commands.register` wires it."""
