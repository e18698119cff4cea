"""Version check: the run's Ludwig (and peft) version against known regressions.

Each advisory cites the upstream pull request that caused or fixed it. Versions are compared as
(major, minor, patch); Ludwig records 0.9.0 as "0.9".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..findings import Evidence, Finding, Severity
from ..run import Run
from ..tokenizer_info import PAD_EQUALS_EOS_CLASSES, TokenizerInfo, read_tokenizer_info
from ..versions import Version, parse_version
from .context import (
    DESCRIPTION_FILE,
    METADATA_FILE,
    STATISTICS_FILE,
    config_section,
    feature_metadata,
    features,
    local_base_model,
)

RETRAIN_NOTE = (
    "Upgrading alone does not repair a model trained on an affected version: the adapter has already "
    "learned the wrong stop token, so retrain it after the upgrade."
)


@dataclass(frozen=True)
class RunFacts:
    """The facts of one run that the advisories compare, gathered once."""

    run: Run
    version: Version
    tokenizer: TokenizerInfo
    padding_symbols: dict[str, Any]  # feature name -> padding_symbol from the metadata
    pad_indexes: dict[str, Any]  # feature name -> pad_idx from the metadata
    peft_version: Version | None


@dataclass(frozen=True)
class Advisory:
    """A known problem of one package range, and how to recognise a run that has it."""

    id: str
    severity: Severity
    introduced: tuple[int, int, int]
    fixed: tuple[int, int, int] | None
    llm_only: bool
    title: str
    explanation: str
    action: str
    references: str
    # Returns the evidence that the run is affected beyond its version, or None when it is not.
    matches: Callable[[RunFacts], list[Evidence] | None]


def check_version(run: Run) -> list[Finding]:
    """Compare the run's Ludwig version with every advisory and return the ones that apply."""
    version_text = run.ludwig_version_text
    version = parse_version(version_text) if version_text else None

    if version is None:
        return [_unknown_version_finding(version_text)]

    facts = _gather_facts(run, version)
    findings = []
    for advisory in ADVISORIES:
        finding = _evaluate(advisory, facts)
        if finding is not None:
            findings.append(finding)
    return findings


def _evaluate(advisory: Advisory, facts: RunFacts) -> Finding | None:
    if advisory.llm_only and facts.run.model_type != "llm":
        return None
    if facts.version.release < advisory.introduced:
        return None
    if advisory.fixed is not None and facts.version.release >= advisory.fixed:
        return None

    extra_evidence = advisory.matches(facts)
    if extra_evidence is None:
        return None

    version_evidence = Evidence(
        source=DESCRIPTION_FILE,
        field="ludwig_version",
        value=facts.run.ludwig_version_text,
        note=_range_note(advisory),
    )
    return Finding(
        id=advisory.id,
        severity=advisory.severity,
        title=advisory.title,
        explanation=f"{advisory.explanation} ({advisory.references})",
        action=advisory.action,
        evidence=[version_evidence, *extra_evidence],
    )


def _range_note(advisory: Advisory) -> str:
    introduced = ".".join(str(part) for part in advisory.introduced)
    if advisory.fixed is None:
        return f"affected from {introduced}"
    fixed = ".".join(str(part) for part in advisory.fixed)
    return f"affected: {introduced} up to, not including, {fixed}"


def _unknown_version_finding(version_text: str | None) -> Finding:
    return Finding(
        id="version.unknown",
        severity=Severity.INFO,
        title="The run does not record a readable Ludwig version",
        explanation=(
            "Without the version the known Ludwig regressions cannot be checked. "
            "description.json normally records it as ludwig_version."
        ),
        evidence=[Evidence(source=DESCRIPTION_FILE, field="ludwig_version", value=version_text)],
    )


def _gather_facts(run: Run, version: Version) -> RunFacts:
    tokenizer = read_tokenizer_info(run.base_model, local_base_model(run))
    padding_symbols: dict[str, Any] = {}
    pad_indexes: dict[str, Any] = {}

    for feature in [*features(run, "input_features"), *features(run, "output_features")]:
        entry = feature_metadata(run, feature)
        if entry is None:
            continue
        name = str(feature.get("name"))
        if "padding_symbol" in entry:
            padding_symbols[name] = entry["padding_symbol"]
        if "pad_idx" in entry:
            pad_indexes[name] = entry["pad_idx"]

    return RunFacts(
        run=run,
        version=version,
        tokenizer=tokenizer,
        padding_symbols=padding_symbols,
        pad_indexes=pad_indexes,
        peft_version=_read_peft_version(run),
    )


def _read_peft_version(run: Run) -> Version | None:
    """Read ``peft_version`` from the adapter config that peft saves beside the adapter weights."""
    path = run.path / "model" / "model_weights" / "adapter_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    value = data.get("peft_version") if isinstance(data, dict) else None
    return parse_version(value) if isinstance(value, str) else None


def _tokenizer_evidence(facts: RunFacts) -> Evidence:
    tokenizer = facts.tokenizer
    if tokenizer.tokenizer_class:
        return Evidence(
            source=tokenizer.source,
            field="tokenizer_class",
            value=tokenizer.tokenizer_class,
            note=f"pad_token {tokenizer.pad_token!r}, eos_token {tokenizer.eos_token!r}",
        )
    return Evidence(
        source=DESCRIPTION_FILE,
        field="config.base_model",
        value=facts.run.base_model,
        note=f"tokenizer family from the model name: {tokenizer.family}",
    )


def _padding_evidence(facts: RunFacts, symbol: str) -> list[Evidence]:
    return [
        Evidence(source=METADATA_FILE, field=f"{name}.padding_symbol", value=value)
        for name, value in facts.padding_symbols.items()
        if value == symbol
    ]


def _matches_pad_to_unk(facts: RunFacts) -> list[Evidence] | None:
    """Ludwig 0.9-0.9.2 with a tokenizer that has no pad token and no "[PAD]" in its vocabulary."""
    recorded = _padding_evidence(facts, "[PAD]")
    if recorded:
        return [*recorded, _tokenizer_evidence(facts)]
    if facts.tokenizer.family == "llama" and facts.tokenizer.pad_token is None:
        return [_tokenizer_evidence(facts)]
    return None


def _matches_pad_differs_from_eos(facts: RunFacts) -> list[Evidence] | None:
    """Ludwig up to 0.10.0 closed targets with the pad id, which is not EOS for these tokenizers."""
    tokenizer = facts.tokenizer
    if tokenizer.pad_token and tokenizer.eos_token and tokenizer.pad_token != tokenizer.eos_token:
        return [_tokenizer_evidence(facts)]
    if tokenizer.pad_token is None and tokenizer.family == "gemma":
        return [_tokenizer_evidence(facts)]
    return None


def _matches_pad_id_zero(facts: RunFacts) -> list[Evidence] | None:
    """Ludwig 0.9-0.10.4 forced pad id 0 for tokenizers outside its pad=eos list (Llama-3: "!")."""
    tokenizer = facts.tokenizer
    if tokenizer.family == "llama3":
        return [_tokenizer_evidence(facts)]

    outside_list = tokenizer.tokenizer_class is not None and not any(
        tokenizer.tokenizer_class.startswith(name) for name in PAD_EQUALS_EOS_CLASSES
    )
    if facts.version.release >= (0, 9, 3) and outside_list and tokenizer.pad_token is None:
        return [_tokenizer_evidence(facts)]
    return None


def _matches_text_metrics(facts: RunFacts) -> list[Evidence] | None:
    """ROUGE and BLEU values recorded by Ludwig before 0.10.3 were computed on the wrong tokens."""
    statistics = facts.run.training_statistics or {}
    for split in ("validation", "test", "training"):
        split_stats = statistics.get(split)
        if not isinstance(split_stats, dict):
            continue
        for feature_name, metrics in split_stats.items():
            if not isinstance(metrics, dict):
                continue
            names = sorted(name for name in metrics if name == "bleu" or name.startswith("rouge"))
            if names:
                return [Evidence(source=STATISTICS_FILE, field=f"{split}.{feature_name}", value=names[:4])]
    return None


def _matches_any_llm(facts: RunFacts) -> list[Evidence] | None:
    return []


def _matches_quantized_merge(facts: RunFacts) -> list[Evidence] | None:
    """4- or 8-bit quantization with the adapter merged into the base model at save time."""
    quantization = config_section(facts.run, "quantization")
    adapter = config_section(facts.run, "adapter")
    postprocessor = adapter.get("postprocessor")
    merge = isinstance(postprocessor, dict) and postprocessor.get("merge_adapter_into_base_model") is True
    bits = quantization.get("bits")
    if merge and bits in (4, 8):
        return [
            Evidence(source=DESCRIPTION_FILE, field="config.quantization.bits", value=bits),
            Evidence(
                source=DESCRIPTION_FILE,
                field="config.adapter.postprocessor.merge_adapter_into_base_model",
                value=True,
            ),
        ]
    return None


def _matches_old_peft_mistral(facts: RunFacts) -> list[Evidence] | None:
    """peft before 0.10.0 with Ludwig 0.10 and a Mistral base model."""
    if facts.peft_version is None or facts.peft_version.release >= (0, 10, 0):
        return None
    if "mistral" not in (facts.run.base_model or "").lower():
        return None
    return [
        Evidence(
            source="model/model_weights/adapter_config.json",
            field="peft_version",
            value=str(facts.peft_version),
        )
    ]


ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        id="version.pad_token_maps_to_unk",
        severity=Severity.ERROR,
        introduced=(0, 9, 0),
        fixed=(0, 9, 3),
        llm_only=True,
        title="Ludwig 0.9-0.9.2 trained this model to end answers with <unk> instead of EOS",
        explanation=(
            "From Ludwig 0.9 a tokenizer without a pad token got the pad string '[PAD]'. Llama-family "
            "vocabularies do not contain it, so it became the <unk> id, and Ludwig closed every training "
            "target with that id. The model never learns to emit EOS, so generation runs on to "
            "max_new_tokens and repeats the answer, often separated by 'y' or spaces."
        ),
        action="Upgrade Ludwig to 0.9.3 or later (0.10.1 or later is better) and retrain. " + RETRAIN_NOTE,
        references="caused by ludwig-ai/ludwig PR #3735 and #3774, fixed by PR #3897 in 0.9.3",
        matches=_matches_pad_to_unk,
    ),
    Advisory(
        id="version.stop_token_is_pad",
        severity=Severity.ERROR,
        introduced=(0, 8, 0),
        fixed=(0, 10, 1),
        llm_only=True,
        title="Ludwig before 0.10.1 closed targets with the pad token, which differs from EOS here",
        explanation=(
            "Until 0.10.1 Ludwig appended the pad id, not the EOS id, to every training target. That only "
            "works when pad equals EOS. With this tokenizer they differ, so the model never learns to stop "
            "and generation runs to max_new_tokens."
        ),
        action="Upgrade Ludwig to 0.10.1 or later and retrain. " + RETRAIN_NOTE,
        references="fixed by ludwig-ai/ludwig PR #3945 in 0.10.1",
        matches=_matches_pad_differs_from_eos,
    ),
    Advisory(
        id="version.pad_id_zero",
        severity=Severity.WARNING,
        introduced=(0, 9, 0),
        fixed=(0, 11, 0),
        llm_only=True,
        title="Ludwig 0.9-0.10.4 used token id 0 as padding for this tokenizer",
        explanation=(
            "For tokenizers without a pad token outside Ludwig's pad=EOS list (Llama-3 among them), "
            "Ludwig forced the pad id to 0, which is a real token (for Llama-3 it decodes as '!'). Left "
            "padding is then removed after the last id 0, so texts that contain that token lose their "
            "beginning, and evaluation examples show long '!!!!' runs. This reading of Ludwig's code is "
            "not confirmed by an upstream issue."
        ),
        action="Upgrade Ludwig to 0.11.0 or later, or use a base model whose tokenizer defines a pad "
        "token, and retrain.",
        references="Ludwig 0.10.3 tokenizers.py; fixed in 0.11.0, which sets pad = EOS for any tokenizer",
        matches=_matches_pad_id_zero,
    ),
    Advisory(
        id="version.memory_regression",
        severity=Severity.INFO,
        introduced=(0, 9, 0),
        fixed=(0, 9, 2),
        llm_only=True,
        title="Ludwig 0.9 and 0.9.1 use much more GPU memory when fine-tuning",
        explanation=(
            "A workaround for a transformers 4.36 gradient checkpointing bug set module train and eval "
            "modes by hand, and memory grew until out-of-memory errors."
        ),
        action="Upgrade Ludwig to 0.9.2 or later, with transformers 4.36.2 or later.",
        references="fixed by ludwig-ai/ludwig PR #3858 in 0.9.2",
        matches=_matches_any_llm,
    ),
    Advisory(
        id="version.text_metrics_invalid",
        severity=Severity.INFO,
        introduced=(0, 8, 0),
        fixed=(0, 10, 3),
        llm_only=True,
        title="ROUGE and BLEU values of this Ludwig version are not reliable",
        explanation=(
            "Before 0.10.3 Ludwig decoded predictions for text metrics with the wrong mask, so the text "
            "it scored was as long as the prompt. Judge the run by its loss instead."
        ),
        action="Ignore bleu and rouge* in training_statistics.json, or upgrade to 0.10.3 or later.",
        references="ludwig-ai/ludwig issue #3985, fixed by PR #3986 in 0.10.3",
        matches=_matches_text_metrics,
    ),
    Advisory(
        id="version.evaluate_max_new_tokens",
        severity=Severity.INFO,
        introduced=(0, 8, 0),
        fixed=(0, 8, 6),
        llm_only=True,
        title="Ludwig before 0.8.6 cut generation at 32 tokens during evaluation",
        explanation=(
            "The default max_new_tokens was 32, so evaluation metrics of longer answers are too low. "
            "From 0.8.6 it follows the output feature's max_sequence_length."
        ),
        action="Upgrade Ludwig to 0.8.6 or later, or set generation.max_new_tokens explicitly.",
        references="ludwig-ai/ludwig PR #3713 in 0.8.6",
        matches=_matches_any_llm,
    ),
    Advisory(
        id="version.quantized_merge_save",
        severity=Severity.WARNING,
        introduced=(0, 8, 6),
        fixed=(0, 11, 3),
        llm_only=True,
        title="Merging an adapter into a quantized base model fails to save with this Ludwig",
        explanation=(
            "Ludwig pinned bitsandbytes below 0.41 until 0.11.3, and that bitsandbytes cannot save a 4-bit "
            "model, so the merged model is not saved correctly."
        ),
        action="Upgrade Ludwig to 0.11.3 or later, or merge the adapter without quantization.",
        references="ludwig-ai/ludwig issue #3951; bitsandbytes>=0.44 from Ludwig 0.11.3",
        matches=_matches_quantized_merge,
    ),
    Advisory(
        id="version.old_peft_mistral",
        severity=Severity.WARNING,
        introduced=(0, 10, 0),
        fixed=None,
        llm_only=True,
        title="peft before 0.10.0 fails to fine-tune Mistral with Ludwig 0.10",
        explanation="A reporter of this failure resolved it by upgrading peft to 0.10.0.",
        action="Upgrade peft to 0.10.0 or later in the training environment.",
        references="ludwig-ai/ludwig issue #3995; Ludwig 0.10.4 requires peft>=0.10.0",
        matches=_matches_old_peft_mistral,
    ),
)
