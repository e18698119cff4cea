"""The `ludwig-doctor` console script: headless commands, or the app when no command is given.

Textual is imported only when the app opens, so `ludwig-doctor check` starts without it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..diagnostics.cli import (
    COMMANDS,
    EXIT_IO,
    EXIT_USAGE,
    UsageError,
    build_app_parser,
    build_options,
    default_app_paths,
    run_headless_command,
)
from ..diagnostics.settings import SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a headless command, or open the app on the given folders."""
    arguments = _command_first(list(sys.argv[1:] if argv is None else argv))

    if arguments and arguments[0] in COMMANDS:
        return run_headless_command(arguments)

    try:
        args = build_app_parser().parse_args(arguments)
        options = build_options(args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as error:
        print(f"ludwig-doctor: {error}", file=sys.stderr)
        return EXIT_IO

    paths: list[Path] = args.path or default_app_paths()
    missing = [path for path in paths if not path.exists()]
    if missing:
        hint = ""
        if "/" not in str(missing[0]):
            hint = f" (to run a command, use one of: {', '.join(COMMANDS)})"
        print(f"ludwig-doctor: {missing[0]}: no such file or directory{hint}", file=sys.stderr)
        return EXIT_IO

    from .app import create_app

    create_app(paths, options).run()
    return 0


# Options that take a separate value, so that `--ludwig-python PATH check` finds the command.
_OPTIONS_WITH_VALUE = ("--ludwig-python", "--path-map", "--predictions", "--format")


def _command_first(arguments: list[str]) -> list[str]:
    """Move a command that follows options to the front: `-v check x` becomes `check -v x`."""
    index = 0
    while index < len(arguments):
        token = arguments[index]
        if token in COMMANDS:
            return [token, *arguments[:index], *arguments[index + 1 :]]
        if token in _OPTIONS_WITH_VALUE:
            index += 2
        elif token.startswith("-"):
            index += 1
        else:
            break
    return arguments


if __name__ == "__main__":
    sys.exit(main())
