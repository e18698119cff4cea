"""Build the optional C scan of loops.analyse_texts; every other setting is in pyproject.toml.

The extension is optional: where it fails to build (no C compiler or no Python headers), the
install goes on without it and loops.py uses its NumPy code instead.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "ludwig_doctor.diagnostics._loopscan",
            sources=["diagnostics/_loopscan.c"],
            optional=True,
        )
    ]
)
