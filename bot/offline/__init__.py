"""Stand-ins for what cannot be reached here: the sandbox, Slack, the console."""
