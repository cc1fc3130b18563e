"""The approval notebook runs top to bottom under nbclient with this venv's ipykernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[3] / "examples" / "notebooks" / "langgraph_approval.ipynb"


def test_approval_notebook_runs_top_to_bottom(tmp_path: Path) -> None:
    """Every cell executes without error: the call pauses, a later cell approves, another run is rejected."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "paused: send_money" in outputs
    assert "sent 900 to ACME Ltd" in outputs
    assert "error - AIRS blocked the call" in outputs
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
