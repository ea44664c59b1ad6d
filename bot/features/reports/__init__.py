"""Engagement health at a glance: the weekly report with its chart, `/cadence report`, `/cadence export`
and the App Home section. Platform-neutral; each feature's figures are optional (bot/features/reports/figures.py).
`commands.register` wires it."""
