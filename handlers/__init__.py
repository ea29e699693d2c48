"""Slack glue: each module has `register(app, ...)`; `register_all` wires them up."""
