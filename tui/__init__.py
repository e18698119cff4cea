"""Textual app of ludwig-doctor: a thin layer over ``ludwig_doctor.diagnostics``."""
