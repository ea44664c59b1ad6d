"""Milestones, acceptance rounds, rectification items, the project acceptance and the warranty (issue 22)."""
