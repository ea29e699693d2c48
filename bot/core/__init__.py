"""The domain: what the bot does and decides, in data. No Slack, no web server."""
