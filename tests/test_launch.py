"""Relaunching: the command, the detached process group, cancel, failures, the record, the CLI.

One test trains for real: it relaunches the truncated sample run with the truncation patch.
The others run a stand-in command, so cancel and failures take seconds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.launch.command import CommandError, build_train_command
from ludwig_doctor.diagnostics.launch.compare import compare_runs
from ludwig_doctor.diagnostics.launch.gpus import parse_gpu_choice, parse_nvidia_smi
from ludwig_doctor.diagnostics.launch.plan import plan_relaunch, start_relaunch
from ludwig_doctor.diagnostics.launch.process import (
    cancel_launch,
    find_launches,
    group_alive,
    read_state,
    running_launches,
    start_launch,
    wait_for_end,
)
from ludwig_doctor.diagnostics.launch.progress import LogFollower, Progress
from ludwig_doctor.diagnostics.launch.record import (
    CANCELLED,
    FAILED,
    LOST,
    RUN_RECORD_FILE,
    RUNNING,
    SUCCEEDED,
    LaunchRecord,
    load_record,
    write_record,
)
from ludwig_doctor.diagnostics.patching.yaml_edit import ConfigEdit
from ludwig_doctor.diagnostics.run import Run
from ludwig_doctor.diagnostics.scan import DoctorOptions, check_entry, find_runs, load_entry
from ludwig_doctor.tui.main import main

RECORDED_ROOT = "/work/main/sample_runs"
TRUNCATION_ID = "truncation.global_max_sequence_length"


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep launch pointers out of the user's ~/.local/state."""
    folder = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(folder))
    return folder


@pytest.fixture
def truncated_copy(tmp_path: Path, sample_runs: Path) -> tuple[Path, DoctorOptions]:
    """Copy the truncated run and its data, and map the recorded paths onto the copies.

    Ludwig writes a lock file beside the dataset, so no test may train on sample_runs/data itself.
    """
    copy = tmp_path / "runs"
    shutil.copytree(sample_runs / "llm_truncated", copy / "llm_truncated")
    shutil.copytree(sample_runs / "data", copy / "data")
    shutil.copytree(sample_runs / "models", copy / "models")
    options = DoctorOptions(
        path_map={
            f"{RECORDED_ROOT}/llm_truncated": str(copy / "llm_truncated"),
            f"{RECORDED_ROOT}/data": str(copy / "data"),
        }
    )
    return copy / "llm_truncated" / "results" / "experiment_run", options


def load_run(run_dir: Path, options: DoctorOptions) -> Run:
    return load_entry(find_runs([run_dir])[0], options)


def stand_in_record(tmp_path: Path, command: list[str]) -> LaunchRecord:
    launch_dir = tmp_path / "ludwig-doctor" / "stand_in_run"
    launch_dir.mkdir(parents=True)
    return LaunchRecord(
        id="stand-in",
        parent_run=str(tmp_path / "parent"),
        base_config="config.yaml",
        base_config_kind="user config",
        patches=[],
        config_path=str(launch_dir / "config.yaml"),
        command=command,
        cwd=str(tmp_path),
        environment={"PYTHONUNBUFFERED": "1"},
        ludwig_python=sys.executable,
        output_directory=str(tmp_path),
        experiment_name="stand_in",
        expected_run_dir=str(tmp_path / "stand_in_run"),
        log_path=str(launch_dir / "train.log"),
    )


def wait_for(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def fake_ludwig_env(tmp_path: Path, script: str) -> Path:
    """Make a folder with a `ludwig` script, standing in for an environment's bin folder."""
    bin_dir = tmp_path / "fake-env" / "bin"
    bin_dir.mkdir(parents=True)
    ludwig = bin_dir / "ludwig"
    ludwig.write_text("#!/bin/sh\n" + script)
    ludwig.chmod(ludwig.stat().st_mode | stat.S_IXUSR)
    return bin_dir / "python"


def test_progress_from_sample_log(sample_runs: Path) -> None:
    follower = LogFollower(sample_runs / "llm_truncated" / "train.log")
    lines = follower.poll()
    assert "Starting with step 0, epoch: 0" in lines
    assert not any("\r" in line for line in lines)
    assert follower.progress.describe() == "epoch 10/10 · step 450/450 · loss 5.52"
    assert follower.poll() == []


def test_progress_mid_training() -> None:
    progress = Progress()
    assert progress.describe() == "preparing (no training step yet)"
    progress.update(
        "Training for 450 step(s), approximately 10 epoch(s).\n"
        "Running evaluation for step: 90, epoch: 2\n"
        "Training:  21%|██        | 93/450 [00:00<00:02, 138.96it/s, loss=5.72]"
        "\rTraining:  21%|██        | 94/450 [00:00<00:02, 138.96it/s, loss=nan] "
    )
    assert progress.describe() == "epoch 3/10 · step 94/450 · loss nan"


def test_log_follower_keeps_partial_line(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text("first\nTraining:   1%|          | 3/450 [00:00<00:08, loss=6.1]")
    follower = LogFollower(log)
    assert follower.poll() == ["first"]
    assert follower.pending_line.startswith("Training:   1%")
    with log.open("a") as stream:
        stream.write("\rTraining:   1%|          | 4/450 [00:00<00:08, loss=6.0]\nnext\n")
    assert follower.poll() == ["Training:   1%|          | 4/450 [00:00<00:08, loss=6.0]", "next"]
    assert follower.progress.step == 4


def test_gpu_listing_and_choice() -> None:
    gpus = parse_nvidia_smi("0, NVIDIA H100 80GB HBM3, 80000, 81559\n1, NVIDIA H100 80GB HBM3, 1200, 81559\n")
    assert [(gpu.index, gpu.memory_free_mib) for gpu in gpus] == [(0, 80000), (1, 1200)]
    assert gpus[1].describe() == "GPU 1: NVIDIA H100 80GB HBM3, 1200 of 81559 MiB free"
    assert parse_gpu_choice("0, 2") == "0,2"
    assert parse_gpu_choice("cpu") == ""
    with pytest.raises(ValueError, match="expected indexes"):
        parse_gpu_choice("first")


def test_command_keeps_options_and_resolves_moved_dataset(truncated_copy: tuple[Path, DoctorOptions]) -> None:
    run_dir, options = truncated_copy
    run = load_run(run_dir, options)
    run.description = dict(run.description or {})
    run.description["command"] += " --gpus 0 1 --random_seed 7 --model_resume_path /old/model"

    command = build_train_command(
        run, "/env/bin/python", Path("/new/config.yaml"), run_dir.parent, "experiment_doctor_x"
    )

    data = run_dir.parents[2] / "data" / "instructions.csv"
    assert command.argv == [
        "/env/bin/python",
        "-m",
        "ludwig.cli",
        "train",
        "--config",
        "/new/config.yaml",
        "--dataset",
        str(data),
        "--skip_save_processed_input",
        "--random_seed",
        "7",
        "--output_directory",
        str(run_dir.parent),
        "--experiment_name",
        "experiment_doctor_x",
    ]
    assert any("dropped --gpus" in note for note in command.notes)
    assert any("dropped --model_resume_path /old/model" in note for note in command.notes)


def test_command_rejects_dataset_that_is_gone(truncated_copy: tuple[Path, DoctorOptions]) -> None:
    run_dir, options = truncated_copy
    run = load_run(run_dir, options)
    run.description = dict(run.description or {})
    run.description["command"] = run.description["command"].replace("instructions.csv", "missing.csv")
    with pytest.raises(CommandError, match="missing.csv was not found on this machine"):
        build_train_command(run, "/env/bin/python", Path("c.yaml"), run_dir.parent, "x")


def test_cancel_stops_whole_group(tmp_path: Path) -> None:
    # The stand-in ignores SIGINT, so cancel must escalate to SIGTERM; its grandchild shares the group.
    script = (
        "import signal, subprocess, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "print('GRANDCHILD_PID=%d' % child.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    record = start_launch(stand_in_record(tmp_path, [sys.executable, "-c", script]))
    assert record.status == RUNNING
    assert record.pgid is not None
    assert record.pgid != os.getpgid(0)
    wait_for(lambda: re.search(r"GRANDCHILD_PID=\d+", Path(record.log_path).read_text()) is not None)
    found = re.search(r"GRANDCHILD_PID=(\d+)", Path(record.log_path).read_text())
    assert found is not None
    grandchild = int(found.group(1))
    assert os.getpgid(grandchild) == record.pgid

    assert [state.record.id for state in running_launches()] == ["stand-in"]

    state = cancel_launch(record.record_path, grace_seconds=1.0, terminate_seconds=5.0)

    assert state.status == CANCELLED
    with pytest.raises(ProcessLookupError):
        os.killpg(record.pgid, 0)
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)
    saved = load_record(record.record_path)
    assert saved.status == CANCELLED
    assert saved.cancel_requested_at is not None
    assert saved.ended_at is not None
    assert saved.exit_status == -15
    assert "ludwig-doctor: started" in Path(record.log_path).read_text()
    assert running_launches() == []


def test_cancel_with_sigint_only(tmp_path: Path) -> None:
    record = start_launch(stand_in_record(tmp_path, [sys.executable, "-c", "import time; time.sleep(300)"]))
    state = cancel_launch(record.record_path, grace_seconds=10.0)
    assert state.status == CANCELLED
    # Python 3.11 ends on an unhandled KeyboardInterrupt by killing itself with SIGINT, but
    # exits with 1 when the interrupt arrives while the interpreter still starts up.
    assert state.record.exit_status in (1, -signal.SIGINT)
    assert not group_alive(record.pgid)


def test_launch_that_dies_at_once(tmp_path: Path, truncated_copy: tuple[Path, DoctorOptions]) -> None:
    run_dir, options = truncated_copy
    python = fake_ludwig_env(tmp_path, "echo 'ValueError: CUDA out of memory' >&2\nexit 3\n")
    original = (run_dir.parents[1] / "config.yaml").read_text()
    plan = plan_relaunch(
        load_run(run_dir, options),
        [ConfigEdit("preprocessing.global_max_sequence_length", 72)],
        ludwig_python=str(python),
    )

    record = start_relaunch(plan)
    state = wait_for_end(record.record_path, timeout=30)

    assert state.status == FAILED
    assert state.record.exit_status == 3
    assert "failed with exit status 3" in state.record.message
    assert "CUDA out of memory" in Path(record.log_path).read_text()
    assert (run_dir.parents[1] / "config.yaml").read_text() == original
    assert sorted(path.name for path in run_dir.parent.iterdir()) == ["experiment_run", "ludwig-doctor"]
    assert Path(record.config_path).is_file()


def test_launch_with_missing_program(tmp_path: Path) -> None:
    record = start_launch(stand_in_record(tmp_path, [str(tmp_path / "no-such-ludwig"), "train"]))
    state = wait_for_end(record.record_path, timeout=30)
    assert state.status == FAILED
    assert state.record.exit_status == 127
    assert "cannot start" in state.record.message


def test_record_running_without_process_is_lost(tmp_path: Path) -> None:
    record = stand_in_record(tmp_path, ["true"])
    record.status = RUNNING
    # A process group id that no process uses: the pid of a child that has exited and been reaped.
    finished = os.fork()
    if finished == 0:
        os._exit(0)
    os.waitpid(finished, 0)
    record.pgid = finished
    write_record(record)
    assert read_state(record.record_path).status == LOST
    assert [state.status for state in find_launches([tmp_path])] == [LOST]


def test_patch_command_writes_new_file(
    tmp_path: Path, truncated_copy: tuple[Path, DoctorOptions], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = truncated_copy
    config = run_dir.parents[1] / "config.yaml"
    original = config.read_text()
    output = tmp_path / "patched.yaml"
    mapping = ["--path-map", f"{RECORDED_ROOT}/llm_truncated={run_dir.parents[1]}"]

    code = main(
        [
            "patch",
            str(run_dir),
            "--apply",
            TRUNCATION_ID,
            "--set",
            "trainer.epochs=2",
            "-o",
            str(output),
            "--no-validate",
            *mapping,
        ]
    )

    assert code == 0
    out = capsys.readouterr().out
    assert "+  global_max_sequence_length: 72" in out
    assert "+  epochs: 2" in out
    assert output.read_text().startswith("# global_max_sequence_length 32 is shorter")
    assert config.read_text() == original

    assert main(["patch", str(run_dir), "--set", "trainer.epochs=2", "-o", str(config), *mapping]) == 64
    assert "is the original config" in capsys.readouterr().err
    assert main(["patch", str(run_dir), "--apply", "nope", "-o", str(tmp_path / "x.yaml"), *mapping]) == 64
    assert "no patch matches 'nope'" in capsys.readouterr().err


def test_relaunch_without_ludwig_refuses(
    tmp_path: Path, truncated_copy: tuple[Path, DoctorOptions], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = truncated_copy
    code = main(["relaunch", str(run_dir), "--apply", TRUNCATION_ID, "--ludwig-python", sys.executable])
    assert code == 69
    assert "Ludwig not found" in capsys.readouterr().err
    assert sorted(path.name for path in run_dir.parent.iterdir()) == ["experiment_run"]


@pytest.mark.ludwig
def test_relaunch_dry_run_and_schema_rejection(
    ludwig_python: Path, truncated_copy: tuple[Path, DoctorOptions], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = truncated_copy
    mapping = ["--path-map", f"{RECORDED_ROOT}/data={run_dir.parents[2] / 'data'}"]
    common = ["relaunch", str(run_dir), "--ludwig-python", str(ludwig_python), *mapping]

    assert main([*common, "--apply", TRUNCATION_ID, "--gpus", "cpu", "--dry-run", "--no-validate"]) == 0
    out = capsys.readouterr().out
    assert "+  global_max_sequence_length: 72" in out
    assert "CUDA_VISIBLE_DEVICES=''" in out
    assert "--experiment_name experiment_doctor_" in out
    assert "dry run: nothing was written or started" in out

    assert main([*common, "--set", "preprocessing.global_max_sequence_length=long"]) == 65
    captured = capsys.readouterr()
    assert "'long' is not of type 'integer'" in captured.out
    assert "nothing was written or started" in captured.err
    assert sorted(path.name for path in run_dir.parent.iterdir()) == ["experiment_run"]


@pytest.mark.ludwig
def test_relaunch_fixes_truncation(
    ludwig_python: Path, truncated_copy: tuple[Path, DoctorOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir, options = truncated_copy
    # The detached training inherits this environment, as it would inherit the user's shell.
    monkeypatch.setenv("NLTK_DATA", str(Path(__file__).resolve().parents[1] / "envs" / "nltk_data"))
    parent = check_entry(find_runs([run_dir])[0], options)
    patch = next(f for f in parent.findings if f.id == TRUNCATION_ID).patches[0]
    assert patch.path == "preprocessing.global_max_sequence_length"
    parent_files = {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")}

    plan = plan_relaunch(
        parent.run,
        [ConfigEdit(patch.path, patch.value, source=TRUNCATION_ID)],
        ludwig_python=str(ludwig_python),
        cuda_visible_devices="",
    )
    started = time.monotonic()
    record = start_relaunch(plan)
    state = wait_for_end(record.record_path, timeout=900)
    print(f"relaunch trained in {time.monotonic() - started:.1f} s")  # noqa: T201

    log = Path(record.log_path).read_text()
    assert state.status == SUCCEEDED, log[-2000:]
    assert state.record.exit_status == 0
    new_run = Path(state.record.run_dir or "")
    assert new_run == plan.run_dir
    assert new_run.parent == run_dir.parent

    description = json.loads((new_run / "description.json").read_text())
    assert description["config"]["preprocessing"]["global_max_sequence_length"] == patch.value
    assert "--experiment_name experiment_doctor_" in description["command"]

    saved = load_record(record.record_path)
    assert saved.parent_run == str(run_dir.resolve())
    truncation_patches = [item for item in saved.patches if item["source"] == TRUNCATION_ID]
    assert truncation_patches == [
        {"operation": "set", "path": patch.path, "source": TRUNCATION_ID, "value": patch.value}
    ]
    # Where the recorded base model is missing (a clone elsewhere), the copy beside the run is used.
    assert {item["path"] for item in saved.patches} <= {patch.path, "base_model"}
    assert saved.environment["CUDA_VISIBLE_DEVICES"] == ""
    assert saved.started_at is not None
    assert saved.ended_at is not None
    assert load_record(new_run / RUN_RECORD_FILE).status == SUCCEEDED

    child = check_entry(find_runs([new_run])[0], options)
    assert TRUNCATION_ID not in {finding.id for finding in child.findings}
    comparison = compare_runs(parent, child)
    assert TRUNCATION_ID in {finding.id for finding in comparison.resolved}
    assert "+  global_max_sequence_length: 72" in comparison.config_diff
    assert comparison.final_losses["validation"][1] is not None

    assert {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")} == parent_files
