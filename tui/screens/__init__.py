"""Screens of the ludwig-doctor app: runs, findings of one run, and key help."""
