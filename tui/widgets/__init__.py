"""Widgets of the ludwig-doctor app: the run table and the finding list and detail."""
