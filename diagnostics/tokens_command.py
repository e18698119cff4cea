"""`ludwig-doctor tokens`: the token budget of a run, or of a config and a data file before training."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cli import EXIT_ERRORS, EXIT_IO, EXIT_OK, EXIT_WARNINGS, UsageError, _Parser, configure_logging
from .tokens.errors import TokenAnalysisError
from .tokens.suggest import SHARES


def build_tokens_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor tokens`."""
    parser = _Parser(
        prog="ludwig-doctor tokens",
        description="Tokenize every row with the model's own tokenizer, as Ludwig's LLM preprocessing does, and "
        "report the token lengths, the rows whose target the limits cut, and the smallest limit that fits. "
        "Give a run folder, or --config and --dataset to check before training. Exit status: 0 nothing cut, "
        "1 targets cut, 2 rows left without any target token, 64 usage error, 74 missing or unreadable input.",
    )
    parser.add_argument("run", nargs="?", type=Path, help="a run folder (any depth); omit with --config")
    parser.add_argument(
        "--config", type=Path, metavar="CONFIG", help="a Ludwig LLM config (YAML) for a pre-flight check"
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        metavar="DATA",
        help="the data file (csv, tsv, json, jsonl, parquet); with a run, replaces the recorded path",
    )
    parser.add_argument(
        "--share",
        choices=SHARES,
        default="all",
        help="rows the suggested limit must fit: all of them, or 99%% (default: all)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download a tokenizer missing from the Hugging Face cache (off by default: nothing is downloaded)",
    )
    parser.add_argument("--no-cache", action="store_true", help="recount every row and leave the cache alone")
    parser.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="replace the prefix OLD of a recorded path (base_model, dataset) by NEW; repeatable",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    return parser


def run_tokens(argv: Sequence[str]) -> int:
    """Run `ludwig-doctor tokens` and return its exit status."""
    from .cli import parse_path_map
    from .tokens.report import analysis_dict, render_json, render_text
    from .tokens.suggest import suggest

    args = build_tokens_parser().parse_args(argv)
    configure_logging(args.verbose)
    if (args.run is None) == (args.config is None):
        raise UsageError("ludwig-doctor tokens: give either a run folder or --config CONFIG --dataset DATA")
    if args.config is not None and args.dataset is None:
        raise UsageError("ludwig-doctor tokens: --config needs --dataset DATA")
    path_map = parse_path_map(args.path_map)

    try:
        analyses = _preflight(args) if args.config is not None else _runs(args, path_map)
    except TokenAnalysisError as error:
        print(f"ludwig-doctor tokens: {error}", file=sys.stderr)
        return EXIT_IO

    documents: list[dict[str, Any]] = []
    status = EXIT_OK
    for name, analysis in analyses:
        suggestion = suggest(analysis, args.share)
        if args.format == "json":
            documents.append(analysis_dict(analysis, suggestion, name))
        else:
            sys.stdout.write(render_text(analysis, suggestion, name))
        status = max(status, _status(analysis))
    if args.format == "json":
        sys.stdout.write(render_json(documents))
    return status


def _status(analysis: Any) -> int:
    every = analysis.cuts()["all"]
    if every.no_target:
        return EXIT_ERRORS
    return EXIT_WARNINGS if every.target_cut else EXIT_OK


def _preflight(args: argparse.Namespace) -> list[tuple[str | None, Any]]:
    from .paths import find_beside
    from .tokens.analysis import analyze
    from .tokens.spec import SpecError, spec_from_config
    from .tokens.tokenizer import locate_tokenizer

    config = _read_config(args.config)
    spec = spec_from_config(config)
    base = Path(spec.base_model).expanduser()
    # A relative base_model is relative to where Ludwig runs; the config's folder is tried next.
    local = None
    for candidate in (base, args.config.parent / base):
        if candidate.is_dir():
            local = candidate
            break
    if local is None and spec.base_model.startswith(("/", ".", "~")):
        # A config copied with its project keeps the model beside it under the same trailing folders.
        local = find_beside(spec.base_model, args.config.resolve().parent)
    if local is None and spec.base_model.startswith(("/", ".", "~")):
        raise SpecError(f"base_model {spec.base_model} in {args.config} is not a folder on this machine")
    source = locate_tokenizer(spec.base_model, local, args.download)
    analysis = analyze(spec, source, args.dataset, "as given", use_cache=not args.no_cache)
    return [(str(args.config), analysis)]


def _read_config(path: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from .tokens.spec import SpecError

    try:
        config = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecError(f"{path}: cannot read the config: {error.strerror or error}") from error
    except YAMLError as error:
        raise SpecError(f"{path}: invalid YAML: {error}") from error
    if not isinstance(config, dict):
        raise SpecError(f"{path}: the config is not a YAML mapping")
    return config


def _runs(args: argparse.Namespace, path_map: dict[str, str]) -> list[tuple[str | None, Any]]:
    from .discovery import ScanPathError
    from .scan import DoctorOptions, find_runs, load_entry
    from .tokens.analysis import analyze_run
    from .tokens.spec import SpecError

    try:
        entries = find_runs([args.run])
    except ScanPathError as error:
        raise SpecError(str(error)) from error
    if not entries:
        raise SpecError(f"{args.run}: no Ludwig run found (a run folder has description.json or model/)")
    options = DoctorOptions(path_map=path_map)
    results: list[tuple[str | None, Any]] = []
    for entry in entries:
        run = load_entry(entry, options)
        if run.model_type != "llm":
            continue
        analysis = analyze_run(run, args.dataset, args.download, use_cache=not args.no_cache)
        results.append((run.name, analysis))
    if not results:
        raise SpecError(f"{args.run}: no LLM run found; the token budget applies to model_type llm")
    return results
