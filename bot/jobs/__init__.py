"""Scheduled work: the daily summary's posting and its clock."""
