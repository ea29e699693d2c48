"""The Smart Passes Loyalty API: its one client, its models and its parser."""
