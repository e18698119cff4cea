"""Choose patches for a run, edit their values, see the config diff, and relaunch training."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Static

from ...diagnostics.launch.command import CommandError
from ...diagnostics.launch.gpus import list_gpus, parse_gpu_choice
from ...diagnostics.launch.plan import RelaunchPlan, plan_relaunch, start_relaunch
from ...diagnostics.launch.process import LaunchError
from ...diagnostics.ludwig_env import probe_ludwig
from ...diagnostics.patching.selection import (
    PatchCandidate,
    collect_candidates,
    normalize_path,
    parse_assignment,
)
from ...diagnostics.patching.validation import validate_config_text
from ...diagnostics.patching.yaml_edit import ConfigEdit, PatchError, dump_yaml, parse_value
from ...diagnostics.scan import DoctorOptions, RunReport
from .confirm import ConfirmScreen
from .launch import LaunchScreen


def format_value(value: Any) -> str:
    """Write a patch value the way the user would type it: YAML flow style, one line."""
    return dump_yaml(value).strip().removesuffix("...").strip()


class PatchScreen(Screen[None]):
    """Patches of one run as checkboxes with editable values, a free-form edit, the diff, and launch."""

    DEFAULT_CSS = """
    PatchScreen #patch-choices { height: auto; max-height: 50%; }
    PatchScreen .patch-row { height: auto; }
    PatchScreen .patch-row Checkbox { width: 2fr; }
    PatchScreen .patch-row Input { width: 1fr; }
    PatchScreen #patch-diff { height: 1fr; border: round $primary; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+l", "launch", "Launch"),
    ]

    def __init__(self, report: RunReport, options: DoctorOptions) -> None:
        super().__init__()
        self.report = report
        self.options = options
        self.candidates: list[PatchCandidate] = collect_candidates(report.findings)
        self.user_edits: list[ConfigEdit] = []
        self.plan: RelaunchPlan | None = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        yield Static(f"Relaunch {self.report.run.path}", id="patch-heading")
        with VerticalScroll(id="patch-choices"):
            for index, candidate in enumerate(self.candidates):
                with Horizontal(classes="patch-row"):
                    yield Checkbox(
                        f"{candidate.path} ({candidate.finding_id})", value=True, id=f"patch-check-{index}"
                    )
                    yield Input(format_value(candidate.patch.value), id=f"patch-value-{index}")
            if not self.candidates:
                yield Static("No finding of this run suggests a patch; set keys by hand below.")
            yield Input(placeholder="set a key: PATH=VALUE, then Enter", id="patch-manual")
            yield Input(
                placeholder="GPUs for CUDA_VISIBLE_DEVICES: 0,1 or cpu (empty: unchanged)", id="patch-gpus"
            )
            yield Static("; ".join(list_gpus().describe()), id="patch-gpu-list")
        yield Static(id="patch-status")
        with VerticalScroll(id="patch-diff"):
            yield Static(id="patch-diff-text")
        yield Footer()

    def on_mount(self) -> None:
        """Show the diff of the suggested patches."""
        self.refresh_plan()

    @on(Checkbox.Changed)
    @on(Input.Changed, ".patch-row Input")
    @on(Input.Changed, "#patch-gpus")
    def _changed(self) -> None:
        self.refresh_plan()

    @on(Input.Submitted, "#patch-manual")
    def add_manual_edit(self, event: Input.Submitted) -> None:
        """Add the typed ``PATH=VALUE`` to the edits, replacing an earlier one on that path."""
        try:
            edit = parse_assignment(event.value)
        except PatchError as error:
            self.notify(str(error), severity="error")
            return
        self.user_edits = [item for item in self.user_edits if item.path != edit.path] + [edit]
        event.input.value = ""
        self.refresh_plan()

    def selected_edits(self) -> list[ConfigEdit]:
        """Return the checked patches with their edited values, then the user's own edits.

        Raise PatchError for a value that is not YAML, or for checked patches that set one path
        to different values, which the user resolves by unchecking or editing one of them.
        """
        chosen: dict[str, ConfigEdit] = {}
        user_paths = {edit.path for edit in self.user_edits}
        conflicts = []
        for index, candidate in enumerate(self.candidates):
            if not self.query_one(f"#patch-check-{index}", Checkbox).value:
                continue
            value = parse_value(self.query_one(f"#patch-value-{index}", Input).value)
            path = normalize_path(candidate.path)
            if path in user_paths:
                continue
            earlier = chosen.get(path)
            if earlier is not None and earlier.value != value:
                conflicts.append(
                    f"{path}: {earlier.value!r} ({earlier.source}) or {value!r} ({candidate.finding_id})"
                )
                continue
            chosen[path] = ConfigEdit(path, value, source=candidate.finding_id, reason=candidate.patch.reason)
        if conflicts:
            raise PatchError("conflict: " + "; ".join(conflicts) + ". Uncheck one, or edit them to agree.")
        return [*chosen.values(), *self.user_edits]

    def refresh_plan(self) -> None:
        """Recompute the patched config, its diff and the command; show a problem instead when one stops it."""
        status = self.query_one("#patch-status", Static)
        diff_text = self.query_one("#patch-diff-text", Static)
        self.plan = None
        try:
            gpus_text = self.query_one("#patch-gpus", Input).value
            cuda = parse_gpu_choice(gpus_text) if gpus_text.strip() else None
            environment_python = self.options.ludwig_python or probe_ludwig(None).python
            plan = plan_relaunch(
                self.report.run,
                self.selected_edits(),
                ludwig_python=environment_python,
                cuda_visible_devices=cuda,
            )
        except (PatchError, CommandError, ValueError) as error:
            self.problem = str(error)
            status.update(f"[b red]Cannot launch:[/] {error}")
            return
        self.problem = ""
        self.plan = plan
        notes = "".join(f"\nnote: {note}" for note in plan.notes)
        user = "".join(f"\nset by hand: {edit.path} = {format_value(edit.value)}" for edit in self.user_edits)
        status.update(f"new config: {plan.config_path}\ncommand: {plan.command_text}{notes}{user}")
        diff = plan.diff or "(no change to the config)"
        diff_text.update(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True))

    def action_launch(self) -> None:
        """Ask for confirmation, then validate the config and start training."""
        if self.plan is None:
            self.notify(f"Cannot launch: {self.problem}", severity="error")
            return
        question = (
            f"Start `ludwig train` as {self.plan.run_dir.name}?\n{self.plan.command_text}\n"
            "It runs detached: leaving the app does not stop it."
        )
        self.app.push_screen(ConfirmScreen(question, yes_label="Launch"), self._on_launch_answer)

    def _on_launch_answer(self, answer: bool | None) -> None:
        if answer and self.plan is not None:
            self.notify("Validating the config with Ludwig's schema…")
            self.validate_and_launch(self.plan)

    @work(thread=True, exclusive=True, group="launch")
    def validate_and_launch(self, plan: RelaunchPlan) -> None:
        """Validate in the Ludwig environment, then start the training and follow it."""
        environment = probe_ludwig(plan.ludwig_python)
        if not environment.available:
            self.app.call_from_thread(
                self.notify, f"Ludwig not found: {environment.error}", severity="error", timeout=15
            )
            return
        plan.validation = validate_config_text(plan.patched_text, plan.ludwig_python)
        if plan.validation.is_invalid:
            self.app.call_from_thread(self.notify, plan.validation.describe(), severity="error", timeout=20)
            return
        try:
            record = start_relaunch(plan)
        except (OSError, LaunchError) as error:
            self.app.call_from_thread(self.notify, f"Cannot start the training: {error}", severity="error")
            return
        screen = LaunchScreen(record.record_path, self.options, parent=self.report)
        self.app.call_from_thread(self.app.push_screen, screen)
