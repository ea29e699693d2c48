"""Slack presentation: every message and modal, and the ids they share."""
