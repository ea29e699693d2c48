"""The bot's own database: schema, migrations, records, and per-record locks."""
