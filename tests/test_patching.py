"""Config patches: dotted paths, round-trip edits that keep comments, conflicts, schema validation."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.findings import Finding, Patch, Severity
from ludwig_doctor.diagnostics.patching.keypath import KeyPathError, format_key_path, parse_key_path
from ludwig_doctor.diagnostics.patching.selection import (
    ConflictError,
    build_edits,
    collect_candidates,
    find_conflicts,
    parse_assignment,
    select_candidates,
)
from ludwig_doctor.diagnostics.patching.validation import INVALID, NOT_VALIDATED, VALID, validate_config_text
from ludwig_doctor.diagnostics.patching.yaml_edit import (
    RESOLVED_CONFIG,
    USER_CONFIG,
    ConfigEdit,
    PatchError,
    apply_edits,
    load_base_config,
    read_value,
    unified_diff,
)
from ludwig_doctor.diagnostics.scan import DoctorOptions, find_runs, load_entry

USER_CONFIG_TEXT = """\
# Tiny LoRA run. Keep this comment.
model_type: llm
base_model: /models/tiny   # local copy of the base model
input_features:
  - name: instruction
    type: text
output_features:
  - name: output
    type: text
prompt:
  template: "### Instruction: {instruction}\\n### Response:\\n"
trainer:
  type: finetune
  epochs: 10   # enough for the tiny data
  learning_rate: 0.01
preprocessing:
  # too short for the long-preamble rows
  global_max_sequence_length: 32
  split:
    type: fixed
    column: split
"""


def finding(finding_id: str, *patches: Patch) -> Finding:
    return Finding(
        id=finding_id, severity=Severity.ERROR, title=finding_id, explanation="", patches=list(patches)
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("trainer.epochs", ("trainer", "epochs")),
        (
            "input_features[0].preprocessing.max_sequence_length",
            ("input_features", 0, "preprocessing", "max_sequence_length"),
        ),
        ("a[1][2].b", ("a", 1, 2, "b")),
    ],
)
def test_key_path_round_trip(path: str, expected: tuple[object, ...]) -> None:
    assert parse_key_path(path) == expected
    assert format_key_path(expected) == path


@pytest.mark.parametrize("path", ["", "a..b", "[0].a", "a.", "a[x]", "a[-1]"])
def test_key_path_invalid(path: str) -> None:
    with pytest.raises(KeyPathError):
        parse_key_path(path)


def test_round_trip_without_edits_is_identical() -> None:
    assert apply_edits(USER_CONFIG_TEXT, []) == USER_CONFIG_TEXT


def test_round_trip_edit_keeps_comments_and_order() -> None:
    edits = [
        ConfigEdit("preprocessing.global_max_sequence_length", 72),
        ConfigEdit("trainer.enable_gradient_checkpointing", True),
        ConfigEdit("input_features[0].preprocessing.max_sequence_length", 64),
        ConfigEdit("generation.repetition_penalty", 1.2),
    ]
    patched = apply_edits(USER_CONFIG_TEXT, edits)

    assert "# Tiny LoRA run. Keep this comment." in patched
    assert "base_model: /models/tiny   # local copy of the base model" in patched
    assert "  epochs: 10   # enough for the tiny data" in patched
    assert "  # too short for the long-preamble rows\n  global_max_sequence_length: 72\n" in patched
    assert '"### Instruction: {instruction}\\n### Response:\\n"' in patched
    assert read_value(patched, "input_features[0].preprocessing.max_sequence_length") == (True, 64)
    assert read_value(patched, "generation.repetition_penalty") == (True, 1.2)
    assert read_value(patched, "trainer.enable_gradient_checkpointing") == (True, True)

    keys = [line.split(":")[0] for line in patched.splitlines() if line and line[0].isalpha()]
    assert keys == [
        "model_type",
        "base_model",
        "input_features",
        "output_features",
        "prompt",
        "trainer",
        "preprocessing",
        "generation",
    ]

    diff = unified_diff(USER_CONFIG_TEXT, patched, "before.yaml", "after.yaml")
    assert "-  global_max_sequence_length: 32\n" in diff
    assert "+  global_max_sequence_length: 72\n" in diff
    # Only the patched keys change: 1 removed line, 1 changed line and 5 new lines.
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(changed) == 7


def test_delete_edit_removes_key() -> None:
    patched = apply_edits(USER_CONFIG_TEXT, [ConfigEdit("trainer.learning_rate", delete=True)])
    assert read_value(patched, "trainer.learning_rate") == (False, None)
    assert read_value(patched, "trainer.epochs") == (True, 10)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("input_features[3].name", "has 1 item"),
        ("model_type.size", "is not a mapping"),
        ("missing[0].name", "no list 'missing'"),
    ],
)
def test_edit_invalid_path_rejected(path: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        apply_edits(USER_CONFIG_TEXT, [ConfigEdit(path, 1)])


def test_conflicting_patches_need_choice() -> None:
    findings = [
        finding(
            "truncation.global_max_sequence_length", Patch("preprocessing.global_max_sequence_length", 72)
        ),
        finding("memory.too_long", Patch("preprocessing.global_max_sequence_length", 48)),
        finding("health.lr", Patch("trainer.learning_rate", 0.001)),
    ]
    candidates = collect_candidates(findings)
    selected = select_candidates(candidates, ["all"])

    conflicts = find_conflicts(selected)
    assert [conflict.path for conflict in conflicts] == ["preprocessing.global_max_sequence_length"]
    assert conflicts[0].values == [72, 48]
    with pytest.raises(ConflictError, match="72 from truncation.global_max_sequence_length"):
        build_edits(selected)

    chosen = build_edits(selected, choices={"preprocessing.global_max_sequence_length": 48})
    assert [(edit.path, edit.value, edit.source) for edit in chosen] == [
        ("preprocessing.global_max_sequence_length", 48, "memory.too_long"),
        ("trainer.learning_rate", 0.001, "health.lr"),
    ]

    overridden = build_edits(selected, [parse_assignment("preprocessing.global_max_sequence_length=96")])
    assert [(edit.path, edit.value, edit.source) for edit in overridden] == [
        ("trainer.learning_rate", 0.001, "health.lr"),
        ("preprocessing.global_max_sequence_length", 96, "user"),
    ]


def test_select_candidates_by_key_and_unknown_id() -> None:
    candidates = collect_candidates(
        [finding("truncation.global_max_sequence_length", Patch("a.b", 1), Patch("c", True))]
    )
    assert [c.key for c in candidates] == [
        "truncation.global_max_sequence_length#1",
        "truncation.global_max_sequence_length#2",
    ]
    assert select_candidates(candidates, ["truncation.global_max_sequence_length#2"]) == [candidates[1]]
    with pytest.raises(PatchError, match="patches of this run: truncation"):
        select_candidates(candidates, ["version.unknown"])


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("trainer.epochs=3", "trainer.epochs", 3),
        ("trainer.enable_gradient_checkpointing=true", "trainer.enable_gradient_checkpointing", True),
        ("adapter.target_modules=[q_proj, v_proj]", "adapter.target_modules", ["q_proj", "v_proj"]),
        ("input_features[0].encoder=", "input_features[0].encoder", None),
    ],
)
def test_parse_assignment_reads_yaml_values(text: str, path: str, value: object) -> None:
    edit = parse_assignment(text)
    assert (edit.path, edit.value, edit.source) == (path, value, "user")


def test_parse_assignment_without_equals_rejected() -> None:
    with pytest.raises(PatchError, match="expected PATH=VALUE"):
        parse_assignment("trainer.epochs")


def test_base_config_is_user_file(sample_runs: Path) -> None:
    run = load_entry(find_runs([sample_runs / "llm_truncated"])[0], DoctorOptions())
    base = load_base_config(run)
    assert base.kind == USER_CONFIG
    assert base.path == sample_runs / "llm_truncated" / "config.yaml"
    assert base.text.startswith("# global_max_sequence_length 32")


def test_base_config_falls_back_to_resolved(tmp_path: Path, sample_runs: Path) -> None:
    run_dir = tmp_path / "results" / "experiment_run"
    shutil.copytree(sample_runs / "llm_truncated" / "results" / "experiment_run", run_dir)
    description_path = run_dir / "description.json"
    description = json.loads(description_path.read_text())
    description["command"] = description["command"].replace(
        "llm_truncated/config.yaml", "deleted/config.yaml"
    )
    description_path.write_text(json.dumps(description))

    run = load_entry(find_runs([run_dir])[0], DoctorOptions())
    base = load_base_config(run)

    assert base.kind == RESOLVED_CONFIG
    assert base.path is None
    assert "no longer exists" in base.note
    assert read_value(base.text, "preprocessing.global_max_sequence_length") == (True, 32)
    assert read_value(base.text, "trainer.batch_size") == (True, 2)


def test_validation_without_ludwig_says_not_validated(tmp_path: Path) -> None:
    result = validate_config_text(USER_CONFIG_TEXT, sys.executable)
    assert result.status == NOT_VALIDATED
    assert "cannot be imported" in result.message

    missing = validate_config_text(USER_CONFIG_TEXT, str(tmp_path / "no-python"))
    assert missing.status == NOT_VALIDATED
    assert "does not exist" in missing.message


@pytest.mark.ludwig
def test_validation_with_ludwig_schema(ludwig_python: Path, sample_runs: Path) -> None:
    text = (sample_runs / "llm_truncated" / "config.yaml").read_text()
    invalid = apply_edits(text, [ConfigEdit("preprocessing.global_max_sequence_length", "long")])
    result = validate_config_text(invalid, str(ludwig_python))
    assert result.status == INVALID
    assert result.ludwig_version == "0.11.0"
    assert "'long' is not of type 'integer'" in result.message

    # Ludwig's schema loads base_model, so point it at this checkout's copy of the tiny model.
    local_model = str(sample_runs / "models" / "tiny-llama")
    valid = apply_edits(
        text,
        [ConfigEdit("preprocessing.global_max_sequence_length", 72), ConfigEdit("base_model", local_model)],
    )
    assert validate_config_text(valid, str(ludwig_python)).status == VALID


def test_identical_patches_merge_into_one_candidate() -> None:
    candidates = collect_candidates(
        [
            finding(
                "truncation.global_max_sequence_length", Patch("preprocessing.global_max_sequence_length", 72)
            ),
            finding("repetition.cause.truncation", Patch("preprocessing.global_max_sequence_length", 72)),
            finding("memory.too_long", Patch("preprocessing.global_max_sequence_length", 48)),
        ]
    )

    assert [(c.finding_id, c.patch.value) for c in candidates] == [
        ("truncation.global_max_sequence_length", 72),
        ("memory.too_long", 48),
    ]
    assert candidates[0].also_from == ("repetition.cause.truncation",)
    assert select_candidates(candidates, ["repetition.cause.truncation"]) == [candidates[0]]
