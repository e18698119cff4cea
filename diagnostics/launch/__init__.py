"""Relaunching ``ludwig train``: the command, GPUs, the detached process, its record and its log."""
