"""The kernel every feature stands on: the dispatcher and background loop, the registry, context, timers,
outbox and delivery, the neutral message model, people, engagements, the two sides and the contract."""
