"""Command-line interface: argument parsing and the headless commands (`check`, `env`).

Exit codes follow sysexits.h so that scripts can tell a diagnosis from a failure: 0 when no
finding is at warning or above, 1 for warnings, 2 for errors, 64 for usage errors and 74 for
input/output errors (a path that does not exist, or no run found under the given paths).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .findings import Severity, worst_severity
from .settings import SettingsError, load_settings

EXIT_OK = 0
EXIT_WARNINGS = 1
EXIT_ERRORS = 2
EXIT_USAGE = 64  # EX_USAGE
EXIT_IO = 74  # EX_IOERR

COMMANDS = ("check", "env", "patch", "relaunch", "tokens", "watch")

if TYPE_CHECKING:
    from .scan import DoctorOptions

logger = logging.getLogger("ludwig_doctor")


class UsageError(Exception):
    """An invalid command line; the message names the argument and how to fix it."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting with argparse's own status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.format_usage().rstrip()}\n{self.prog}: {message}")


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ludwig-python",
        metavar="PATH",
        help="Python interpreter of the environment where Ludwig is installed "
        "(default: $LUDWIG_DOCTOR_LUDWIG_PYTHON, else ludwig_python in the settings file, else this interpreter)",
    )
    parser.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="replace the prefix OLD of a path recorded in a run (base_model, dataset, --config) by NEW; "
        "repeat for several prefixes",
    )
    parser.add_argument(
        "--predictions",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="a `ludwig predict` output directory, or one predictions file (parquet, or a CSV "
        "without a header, such as output_response.csv), to read with the runs; repeat for several",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")


def build_app_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor [PATH]`, which opens the app."""
    parser = _Parser(
        prog="ludwig-doctor",
        description="Diagnose Ludwig training runs. Without a command, open the app on PATH. "
        f"Commands: {', '.join(COMMANDS)} (see `ludwig-doctor COMMAND --help`).",
    )
    parser.add_argument(
        "path",
        nargs="*",
        type=Path,
        help="folders with Ludwig output (default: ./results when it exists, else .)",
    )
    parser.add_argument("--version", action="version", version=f"ludwig-doctor {__version__}")
    _add_common_options(parser)
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor check`."""
    parser = _Parser(
        prog="ludwig-doctor check",
        description="Print every run's findings. Exit status: 0 no warnings, 1 warnings, 2 errors, "
        "64 usage error, 74 input/output error (a missing path, or no run found).",
    )
    parser.add_argument(
        "path", nargs="+", type=Path, help="folders with Ludwig output, searched at any depth"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    _add_common_options(parser)
    return parser


def build_env_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor env`."""
    parser = _Parser(
        prog="ludwig-doctor env",
        description="Show which Ludwig installation the doctor uses and which features need it.",
    )
    _add_common_options(parser)
    return parser


def parse_path_map(items: Sequence[str]) -> dict[str, str]:
    """Parse OLD=NEW pairs; raise UsageError for an item without '='."""
    mapping: dict[str, str] = {}
    for item in items:
        old, separator, new = item.partition("=")
        if not separator or not old:
            raise UsageError(f"--path-map {item!r}: expected OLD=NEW, for example /home/me/runs=/data/runs")
        mapping[old] = new
    return mapping


def default_app_paths() -> list[Path]:
    """Return ./results when it exists, else the current folder."""
    results = Path("results")
    return [results] if results.is_dir() else [Path(".")]


def build_options(args: argparse.Namespace) -> DoctorOptions:
    """Merge the settings file, the environment and the command line into DoctorOptions."""
    from .scan import DoctorOptions

    settings = load_settings()
    path_map = dict(settings.path_map)
    path_map.update(parse_path_map(args.path_map))

    return DoctorOptions(
        ludwig_python=args.ludwig_python or settings.ludwig_python,
        path_map=path_map,
        extra_predictions=list(args.predictions),
    )


def configure_logging(verbose: bool) -> None:
    """Send log messages to stderr; stdout belongs to the report."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def exit_code_for(severity: Severity | None) -> int:
    """Map the worst severity of a scan to the exit status."""
    if severity is Severity.ERROR:
        return EXIT_ERRORS
    if severity is Severity.WARNING:
        return EXIT_WARNINGS
    return EXIT_OK


def run_check(argv: Sequence[str]) -> int:
    """Run `ludwig-doctor check` and return its exit status."""
    from .discovery import ScanPathError
    from .report import render_json, render_text
    from .scan import scan

    args = build_check_parser().parse_args(argv)
    configure_logging(args.verbose)
    options = build_options(args)

    try:
        reports = scan(args.path, options)
    except ScanPathError as error:
        print(f"ludwig-doctor check: {error}", file=sys.stderr)
        return EXIT_IO

    if not reports:
        searched = ", ".join(str(path) for path in args.path)
        print(
            f"ludwig-doctor check: no Ludwig run directories found under {searched}. "
            "Pass the --output_directory of `ludwig train` (for example results/).",
            file=sys.stderr,
        )
        return EXIT_IO

    output = render_json(reports) + "\n" if args.format == "json" else render_text(reports)
    sys.stdout.write(output)

    all_findings = [finding for report in reports for finding in report.findings]
    return exit_code_for(worst_severity(all_findings))


def run_env(argv: Sequence[str]) -> int:
    """Run `ludwig-doctor env` and return its exit status (0 when Ludwig is available, else 1)."""
    from .ludwig_env import describe_environment, probe_ludwig

    args = build_env_parser().parse_args(argv)
    configure_logging(args.verbose)
    options = build_options(args)

    environment = probe_ludwig(options.ludwig_python)
    print("\n".join(describe_environment(environment)))
    return EXIT_OK if environment.available else EXIT_WARNINGS


def run_headless_command(argv: Sequence[str]) -> int:
    """Run a headless command (argv[0] is in COMMANDS), turning expected failures into exit codes."""
    command, rest = argv[0], argv[1:]
    try:
        if command == "check":
            return run_check(rest)
        if command == "tokens":
            from .tokens_command import run_tokens

            return run_tokens(rest)
        if command == "watch":
            from .watch_command import run_watch

            return run_watch(rest)
        if command in ("patch", "relaunch"):
            from .patch_commands import run_patch, run_relaunch

            return run_patch(rest) if command == "patch" else run_relaunch(rest)
        return run_env(rest)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as error:
        print(f"ludwig-doctor: {error}", file=sys.stderr)
        return EXIT_IO
