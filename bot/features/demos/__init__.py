"""Demo reminders: plain-language scheduling, recurring sprint demos, local-time reminders, agenda,
iCalendar invites and the acceptance record (docs/demos.md). `commands.register` wires it."""
