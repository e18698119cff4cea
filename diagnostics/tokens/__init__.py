"""Exact token budgets: tokenize a run's dataset with its own tokenizer, the way Ludwig does.

The modules import pandas, numpy and transformers only inside functions, so that importing
``ludwig_doctor.diagnostics`` (and the ``check`` command) stays fast.
"""
