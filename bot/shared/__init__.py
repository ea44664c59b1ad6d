"""Helpers any feature may use and that know nothing of engagements: plain-language dates, numbers, CSV."""
