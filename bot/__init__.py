"""Core of the Smart Passes loyalty Slack bot: no Slack payloads in here."""
