"""Training health: checks on the loss curves, the trainer settings and the resources a run used.

The curve checks (NaN losses, divergence, overfitting, spikes, plateau) live in
``health_curves``; the checks on the config and the recorded metrics (optimizer steps,
validation split, learning rate, warmup, GPU memory, sequence length, perplexity) live in
``health_config``. Both read the TensorBoard logs through ``Run.scalars`` and the per-epoch lists
of ``training_statistics.json``.

ROUGE and BLEU before Ludwig 0.10.3 are reported by the version check
(``version.text_metrics_invalid``), not here.
"""

from __future__ import annotations

from ..findings import Finding
from ..run import Run
from . import health_config, health_curves


def check_health(run: Run) -> list[Finding]:
    """Return the training-health findings for ``run``."""
    findings: list[Finding] = []
    for check in (*health_curves.CHECKS, *health_config.CHECKS):
        finding = check(run)
        if finding is not None:
            findings.append(finding)
    return findings
