"""Tickets (工单), their timeline and resolutions, and the console mirror of shop data."""
