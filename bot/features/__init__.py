"""The jobs Cadence does, one package each, written in the same shape (see docs/core-api.md)."""
