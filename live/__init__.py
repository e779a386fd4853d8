"""Broadcasts, live rooms, product windows and their realtime fanout."""
