"""Engagement health at a glance: the weekly report with its chart, `/cadence report`, `/cadence export`
and the App Home section. Platform-neutral; it imports no other feature: the sections are the ones features declare
(`registry.add_report_section`, bot/features/reports/figures.py).
`commands.register` wires it."""
