"""Figure saving shared by the synthetic and LM reports: matplotlib on the Agg backend, PDF for print and
PNG for the README, written atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fairl.io import atomic_write  # noqa: E402


def save(fig: plt.Figure, paths: list[str | Path]) -> None:
    """Save to each path, atomically; no creation date is embedded, so a rerun gives identical bytes."""
    for path in paths:
        suffix = Path(path).suffix
        metadata = {"CreationDate": None} if suffix == ".pdf" else None
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=150, metadata=metadata), suffix=suffix)
    plt.close(fig)
