"""Headless core of ludwig-doctor: run discovery, readers, checks, patches and launching.

Nothing under this package imports textual; the app in ``ludwig_doctor.tui`` is a thin layer over it.
"""

__version__ = "0.1.0"
