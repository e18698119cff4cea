"""Choose patches for a run, edit their values, see the config diff, and relaunch training."""

from __future__ import annotations

import sys
from typing import Any

from rich.markup import escape
from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Input, Static
from textual.worker import get_current_worker

from ...diagnostics.launch.command import CommandError
from ...diagnostics.launch.gpus import list_gpus, parse_gpu_choice
from ...diagnostics.launch.plan import RelaunchPlan, plan_relaunch, start_relaunch
from ...diagnostics.launch.process import LaunchError
from ...diagnostics.ludwig_env import LudwigEnvironment, probe_ludwig
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

# Seconds without a change before the plan is recomputed, so typing in a value stays responsive.
PLAN_DELAY_SECONDS = 0.3
LUDWIG_PYTHON_FIX = (
    "pass --ludwig-python PATH, set LUDWIG_DOCTOR_LUDWIG_PYTHON, or ludwig_python in the settings file"
)


def format_value(value: Any) -> str:
    """Write a patch value the way the user would type it: YAML flow style, one line."""
    return dump_yaml(value).strip().removesuffix("...").strip()


class PatchScreen(Screen[None]):
    """Patches of one run as checkboxes with editable values, a free-form edit, the diff, and launch."""

    DEFAULT_CSS = """
    PatchScreen #patch-choices { height: auto; max-height: 35%; }
    PatchScreen .patch-row { height: auto; }
    PatchScreen .patch-row Checkbox { width: 2fr; }
    PatchScreen .patch-row Input { width: 1fr; }
    PatchScreen #patch-status-box { height: auto; max-height: 25%; }
    PatchScreen #patch-diff { height: 1fr; min-height: 6; border: round $primary; }
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
        self.environment: LudwigEnvironment | None = None
        self.plan_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Relaunch {self.report.run.path}", id="patch-heading")
        with VerticalScroll(id="patch-choices"):
            for index, candidate in enumerate(self.candidates):
                with Horizontal(classes="patch-row"):
                    yield Checkbox(
                        f"{candidate.path} ({', '.join((candidate.finding_id, *candidate.also_from))})",
                        value=True,
                        id=f"patch-check-{index}",
                    )
                    yield Input(format_value(candidate.patch.value), id=f"patch-value-{index}")
            if not self.candidates:
                yield Static("No finding of this run suggests a patch; set keys by hand below.")
            yield Input(placeholder="set a key: PATH=VALUE, then Enter", id="patch-manual")
            yield Input(
                placeholder="GPUs for CUDA_VISIBLE_DEVICES: 0,1 or cpu (empty: unchanged)", id="patch-gpus"
            )
            yield Static("; ".join(list_gpus().describe()), id="patch-gpu-list")
        # The status scrolls on its own, so a long command or many notes never push the diff away.
        with VerticalScroll(id="patch-status-box"):
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
        self.schedule_plan()

    def schedule_plan(self) -> None:
        """Recompute the plan once the user stops changing the values for PLAN_DELAY_SECONDS."""
        if self.plan_timer is not None:
            self.plan_timer.stop()
        self.plan = None
        self.plan_timer = self.set_timer(PLAN_DELAY_SECONDS, self._plan_timer_fired)

    def _plan_timer_fired(self) -> None:
        self.plan_timer = None
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
        """Read the choices, then recompute the plan in a thread; show a problem instead when one stops it."""
        if self.plan_timer is not None:
            self.plan_timer.stop()
            self.plan_timer = None
        self.plan = None
        try:
            edits, cuda = self.read_choices()
        except (PatchError, ValueError) as error:
            self.show_problem(str(error))
            return
        self.compute_plan(edits, cuda)

    def read_choices(self) -> tuple[list[ConfigEdit], str | None]:
        """Return the chosen edits and the CUDA_VISIBLE_DEVICES value (None: unchanged)."""
        gpus_text = self.query_one("#patch-gpus", Input).value
        cuda = parse_gpu_choice(gpus_text) if gpus_text.strip() else None
        return self.selected_edits(), cuda

    def make_plan(
        self, edits: list[ConfigEdit], cuda: str | None, experiment_name: str | None = None
    ) -> tuple[RelaunchPlan, LudwigEnvironment]:
        """Plan the relaunch and probe its interpreter for Ludwig; blocking, so call it from a thread."""
        plan = plan_relaunch(
            self.report.run,
            edits,
            ludwig_python=self.options.ludwig_python or sys.executable,
            experiment_name=experiment_name,
            cuda_visible_devices=cuda,
        )
        return plan, probe_ludwig(plan.ludwig_python)

    @work(thread=True, exclusive=True, group="plan")
    def compute_plan(self, edits: list[ConfigEdit], cuda: str | None) -> None:
        """Compute the patched config, its diff, the command and the Ludwig probe outside the event loop."""
        try:
            plan, environment = self.make_plan(edits, cuda)
        except (PatchError, CommandError, ValueError) as error:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self.show_problem, str(error))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_plan, plan, environment)

    def show_problem(self, problem: str) -> None:
        """Show what stops the launch."""
        self.problem = problem
        self.plan = None
        self.query_one("#patch-status", Static).update(f"[b red]Cannot launch:[/] {escape(problem)}")

    def show_plan(self, plan: RelaunchPlan, environment: LudwigEnvironment) -> None:
        """Show the new config, the command, whether Ludwig is available, and the diff."""
        self.problem = ""
        self.plan = plan
        self.environment = environment
        if environment.available:
            ludwig = f"Ludwig {environment.ludwig_version} in {environment.python}"
        else:
            ludwig = (
                f"[b red]Ludwig not available:[/] {escape(environment.error or 'not found')}. "
                f"To fix it, {LUDWIG_PYTHON_FIX}."
            )
        notes = "".join(f"\nnote: {escape(note)}" for note in plan.notes)
        user = "".join(
            f"\nset by hand: {escape(edit.path)} = {escape(format_value(edit.value))}"
            for edit in self.user_edits
        )
        self.query_one("#patch-status", Static).update(
            f"{ludwig}\nnew config: {escape(str(plan.config_path))}\n"
            f"command: {escape(plan.command_text)}{notes}{user}"
        )
        diff = plan.diff or "(no change to the config)"
        self.query_one("#patch-diff-text", Static).update(
            Syntax(diff, "diff", theme="ansi_dark", word_wrap=True)
        )

    def action_launch(self) -> None:
        """Ask for confirmation, then validate the config and start training."""
        if self.plan is None:
            problem = self.problem or "the plan is being updated; try again in a moment"
            self.notify(f"Cannot launch: {problem}", severity="error")
            return
        question = f"Start `ludwig train` as {self.plan.run_dir.name}?\n{self.plan.command_text}\n"
        if self.environment is not None and not self.environment.available:
            question += f"Ludwig is not available ({self.environment.error}): {LUDWIG_PYTHON_FIX}.\n"
        question += "It runs detached: leaving the app does not stop it."
        self.app.push_screen(ConfirmScreen(question, yes_label="Launch"), self._on_launch_answer)

    def _on_launch_answer(self, answer: bool | None) -> None:
        if not answer or self.plan is None:
            return
        try:
            edits, cuda = self.read_choices()
        except (PatchError, ValueError) as error:
            self.notify(f"Cannot launch: {error}", severity="error")
            return
        self.notify("Validating the config with Ludwig's schema…")
        self.validate_and_launch(edits, cuda, self.plan.experiment_name)

    @work(thread=True, exclusive=True, group="launch")
    def validate_and_launch(self, edits: list[ConfigEdit], cuda: str | None, experiment_name: str) -> None:
        """Plan again, validate in the Ludwig environment, then start the training and follow it.

        Planning again gives every launch an experiment name that no folder uses yet: the
        confirmed name, or that name with a numeric suffix once an earlier launch took it.
        """
        try:
            plan, environment = self.make_plan(edits, cuda, experiment_name)
        except (PatchError, CommandError, ValueError) as error:
            self.app.call_from_thread(self.notify, f"Cannot launch: {error}", severity="error")
            return
        if not environment.available:
            self.app.call_from_thread(
                self.notify,
                f"Ludwig not found: {environment.error}. To fix it, {LUDWIG_PYTHON_FIX}.",
                severity="error",
                timeout=15,
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
        # The shown plan names the folder this launch now uses; the next launch needs a new name.
        self.app.call_from_thread(self.refresh_plan)
