"""The committed golden transactions are exactly what py-algorand-sdk produces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sdk_fixtures_are_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "sdk_txns.json"
    subprocess.run(
        [sys.executable, "-W", "ignore", str(ROOT / "reference/fixtures/sdk_txns.py"), str(out)],
        check=True,
    )
    committed = ROOT / "crates/devnet/tests/fixtures/sdk_txns.json"
    assert out.read_text() == committed.read_text()
