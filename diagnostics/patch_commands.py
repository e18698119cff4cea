"""The `patch` and `relaunch` commands: patch a run's config, then train it again, detached.

Exit statuses beyond those of cli.py: 1 when a followed training fails or is cancelled, 65 when
Ludwig's schema rejects the patched config, 69 when no Ludwig is found for a relaunch.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .cli import (
    EXIT_IO,
    EXIT_OK,
    UsageError,
    _add_common_options,
    _Parser,
    build_options,
    configure_logging,
)
from .patching.yaml_edit import ConfigEdit
from .scan import DoctorOptions, RunReport

EXIT_FAILED = 1
EXIT_DATAERR = 65  # EX_DATAERR
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE
_FOLLOW_POLL_SECONDS = 0.5


def _add_edit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="the Ludwig run directory (the one with description.json)")
    parser.add_argument(
        "--apply",
        action="append",
        default=[],
        metavar="ID",
        help="apply the patches of a finding: its id (all its patches), ID#N for one patch, or all; repeatable",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="assignments",
        metavar="PATH=VALUE",
        help="set a config key, for example trainer.epochs=3 or input_features[0].preprocessing.max_sequence_length=96; "
        "VALUE is YAML; this wins over a patch on the same path; repeatable",
    )
    parser.add_argument(
        "--unset", action="append", default=[], metavar="PATH", help="delete a config key; repeatable"
    )
    parser.add_argument(
        "--no-validate", action="store_true", help="skip the check with Ludwig's schema (it imports torch)"
    )


def build_patch_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor patch`."""
    parser = _Parser(
        prog="ludwig-doctor patch",
        description="Write a patched copy of a run's config and print the diff. The original is never changed.",
    )
    _add_edit_options(parser)
    parser.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="the new config file"
    )
    parser.add_argument("--force", action="store_true", help="overwrite FILE when it exists")
    _add_common_options(parser)
    return parser


def build_relaunch_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor relaunch`."""
    parser = _Parser(
        prog="ludwig-doctor relaunch",
        description="Patch a run's config and start `ludwig train` again, detached from the terminal, "
        "as a new run beside the parent.",
    )
    _add_edit_options(parser)
    parser.add_argument(
        "--gpus",
        metavar="LIST",
        help="CUDA_VISIBLE_DEVICES for the run, such as 0 or 0,1, or cpu (default: leave it unchanged)",
    )
    parser.add_argument(
        "--dataset", type=Path, metavar="PATH", help="train on PATH instead of the recorded dataset"
    )
    parser.add_argument(
        "--output-directory",
        type=Path,
        metavar="DIR",
        help="where Ludwig writes the new run (default: the folder that contains the parent run)",
    )
    parser.add_argument("--experiment-name", metavar="NAME", help="the new run's experiment name")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the diff and the command, write and start nothing"
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="print the log until training ends, then compare with the parent; Ctrl-C stops following only",
    )
    _add_common_options(parser)
    return parser


def load_report(path: Path, options: DoctorOptions) -> RunReport:
    """Read and diagnose the one run at ``path``; raise UsageError when it contains none or several."""
    from .scan import check_entry, find_runs

    entries = find_runs([path])
    exact = [entry for entry in entries if entry.path.resolve() == path.resolve()]
    if exact:
        return check_entry(exact[0], options)
    if len(entries) == 1:
        return check_entry(entries[0], options)
    if not entries:
        raise UsageError(f"{path}: no Ludwig run found (expected a folder with description.json)")
    names = ", ".join(str(entry.path) for entry in entries[:5])
    raise UsageError(f"{path} contains {len(entries)} runs; name one of them: {names}")


def _collect_edits(args: argparse.Namespace, report: RunReport) -> list[ConfigEdit]:
    from .patching.selection import build_edits, collect_candidates, parse_assignment, select_candidates

    candidates = collect_candidates(report.findings)
    selected = select_candidates(candidates, args.apply)
    user_edits = [parse_assignment(item) for item in args.assignments]
    user_edits += [ConfigEdit(path=path, delete=True) for path in args.unset]
    return build_edits(selected, user_edits)


def run_patch(argv: Sequence[str]) -> int:
    """Run `ludwig-doctor patch` and return its exit status."""
    from .discovery import ScanPathError
    from .patching.validation import validate_config_text
    from .patching.yaml_edit import PatchError, apply_edits, load_base_config, unified_diff

    args = build_patch_parser().parse_args(argv)
    configure_logging(args.verbose)
    options = build_options(args)
    try:
        report = load_report(args.run, options)
        edits = _collect_edits(args, report)
        if not edits:
            raise UsageError("nothing to change: pass --apply ID, --set PATH=VALUE or --unset PATH")
        base = load_base_config(report.run)
        patched = apply_edits(base.text, edits)
    except PatchError as error:
        raise UsageError(f"ludwig-doctor patch: {error}") from error
    except ScanPathError as error:
        print(f"ludwig-doctor patch: {error}", file=sys.stderr)
        return EXIT_IO

    output = args.output
    if base.path is not None and output.resolve() == base.path.resolve():
        raise UsageError(
            f"ludwig-doctor patch: {output} is the original config; write the patch to a new file"
        )
    if output.exists() and not args.force:
        raise UsageError(f"ludwig-doctor patch: {output} exists; pass --force to overwrite it")

    if base.note:
        print(f"note: patching the resolved config from description.json: {base.note}", file=sys.stderr)
    sys.stdout.write(unified_diff(base.text, patched, base.label, str(output)))

    if not args.no_validate:
        validation = validate_config_text(patched, options.ludwig_python)
        print(f"schema: {validation.describe()}", file=sys.stderr)
        if validation.is_invalid:
            print(f"ludwig-doctor patch: {output} was not written", file=sys.stderr)
            return EXIT_DATAERR
    try:
        output.write_text(patched, encoding="utf-8")
    except OSError as error:
        print(f"ludwig-doctor patch: cannot write {output}: {error}", file=sys.stderr)
        return EXIT_IO
    print(f"wrote {output}", file=sys.stderr)
    return EXIT_OK


def run_relaunch(argv: Sequence[str]) -> int:
    """Run `ludwig-doctor relaunch` and return its exit status."""
    from .discovery import ScanPathError
    from .launch.command import CommandError
    from .launch.gpus import list_gpus, parse_gpu_choice
    from .launch.plan import plan_relaunch, start_relaunch
    from .launch.process import LaunchError
    from .ludwig_env import probe_ludwig
    from .patching.validation import validate_config_text
    from .patching.yaml_edit import PatchError

    args = build_relaunch_parser().parse_args(argv)
    configure_logging(args.verbose)
    options = build_options(args)

    try:
        cuda_devices = parse_gpu_choice(args.gpus) if args.gpus is not None else None
    except ValueError as error:
        raise UsageError(f"ludwig-doctor relaunch: --gpus: {error}") from error

    environment = probe_ludwig(options.ludwig_python)
    try:
        report = load_report(args.run, options)
        edits = _collect_edits(args, report)
        plan = plan_relaunch(
            report.run,
            edits,
            ludwig_python=environment.python,
            output_directory=args.output_directory,
            experiment_name=args.experiment_name,
            dataset=args.dataset,
            cuda_visible_devices=cuda_devices,
        )
    except (PatchError, CommandError) as error:
        raise UsageError(f"ludwig-doctor relaunch: {error}") from error
    except ScanPathError as error:
        print(f"ludwig-doctor relaunch: {error}", file=sys.stderr)
        return EXIT_IO

    print(f"parent run: {report.run.path}")
    for note in plan.notes:
        print(f"note: {note}")
    print(plan.diff or f"no config change: the new run trains {plan.base.label} as it is")
    print("GPUs: " + "; ".join(list_gpus().describe()))
    if cuda_devices is not None:
        print(
            f"CUDA_VISIBLE_DEVICES={cuda_devices!r} ({'CPU only' if cuda_devices == '' else 'chosen GPUs'})"
        )

    if not environment.available:
        message = f"Ludwig not found: {environment.error}"
        if args.dry_run:
            print(f"note: {message}; the config was not validated")
        else:
            print(f"ludwig-doctor relaunch: {message}. Name it with --ludwig-python PATH.", file=sys.stderr)
            return EXIT_UNAVAILABLE
    elif not args.no_validate:
        plan.validation = validate_config_text(plan.patched_text, environment.python)
        print(f"schema: {plan.validation.describe()}")
        if plan.validation.is_invalid:
            print("ludwig-doctor relaunch: nothing was written or started", file=sys.stderr)
            return EXIT_DATAERR

    print(f"new run: {plan.run_dir}")
    print(f"config, record and log: {plan.launch_dir}")
    print(f"command: {plan.command_text}")
    if args.dry_run:
        print("dry run: nothing was written or started")
        return EXIT_OK

    try:
        record = start_relaunch(plan)
    except (OSError, LaunchError) as error:
        print(f"ludwig-doctor relaunch: cannot start the training: {error}", file=sys.stderr)
        return EXIT_IO
    print(f"started: process group {record.pgid}, log {record.log_path}, record {record.record_path}")
    if not args.follow:
        return EXIT_OK
    return follow_launch(record.record_path, report, options)


def follow_launch(record_path: Path, parent: RunReport, options: DoctorOptions) -> int:
    """Print the launch's log until it ends, then its outcome and the comparison with the parent."""
    from .launch.compare import compare_runs
    from .launch.process import read_state
    from .launch.progress import LogFollower
    from .launch.record import SUCCEEDED

    state = read_state(record_path)
    follower = LogFollower(Path(state.record.log_path))
    try:
        while True:
            for line in follower.poll():
                print(line, flush=True)
            state = read_state(record_path)
            if not state.running:
                for line in follower.poll():
                    print(line, flush=True)
                break
            time.sleep(_FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        print(f"\nstopped following; training goes on (process group {state.record.pgid})", file=sys.stderr)
        return EXIT_OK

    record = state.record
    print(f"outcome: {state.status}: {record.message} (exit status {record.exit_status})")
    if state.status != SUCCEEDED or not record.run_dir:
        return EXIT_FAILED
    from .discovery import ScanPathError

    try:
        child = load_report(Path(record.run_dir), options)
    except (UsageError, ScanPathError) as error:
        print(f"cannot read the new run: {error}", file=sys.stderr)
        return EXIT_FAILED
    for line in compare_runs(parent, child).describe():
        print(line)
    return EXIT_OK
