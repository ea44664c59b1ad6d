"""Defects and faults with severity-based SLA timers (docs/defects.md). `commands.register` wires it;
`report.defect_stats` gives the weekly report its figures."""
