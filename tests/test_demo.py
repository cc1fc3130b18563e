"""`airs demo` (what `make demo` runs) completes offline and verifies its audit trails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    """The full demo exits 0, shows the stopped hijack and the approval, and every audit trail verifies."""
    r = subprocess.run([sys.executable, "-m", "airs_plugins", "demo", "--workdir", str(tmp_path)],
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Demo finished" in r.stdout
    assert "(skipped:" not in r.stdout
    dbs = sorted(tmp_path.glob("*.db"))
    assert dbs, "the demo wrote no audit database"
    for db in dbs:
        if db.name.startswith("audit"):
            v = subprocess.run([sys.executable, "-m", "airs_plugins", "audit", "verify", str(db)],
                               capture_output=True, text=True, timeout=120, check=False)
            assert v.returncode == 0, v.stderr
