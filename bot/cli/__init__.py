"""`loyalty-bot` (also `python -m bot`): the command line (bot.cli.main), its commands
in serving, checkup and records."""

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
