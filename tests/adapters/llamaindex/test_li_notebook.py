"""examples/notebooks/llamaindex_approval.ipynb runs top to bottom under nbclient."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_notebook_runs_top_to_bottom() -> None:
    """The approval notebook pauses in one cell and is answered in a later one, under nbclient."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "examples" / "notebooks" / "llamaindex_approval.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "send_email" in outputs
    assert "sent: [('boss@corp.example', 'Q3 is up 4%.')]" in outputs
