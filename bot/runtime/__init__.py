"""Running the bot: settings, the Bolt app, the web and CLI entry points."""
