"""Cadence's platform-neutral domain: it never imports slack_bolt or botbuilder."""
