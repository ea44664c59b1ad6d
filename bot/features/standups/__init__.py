"""The standup job: local-morning prompts in each participant's zone, answers in chat or a form, one
reminder, a digest with blockers first, and reports. See docs/standups.md. `commands.register` wires it."""
