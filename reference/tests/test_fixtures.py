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


def test_client_groups_are_reproducible_and_accepted_by_go_algorand(tmp_path: Path) -> None:
    """The script evaluates every group on the reference and fails if one is refused."""
    out = tmp_path / "client_groups.json"
    subprocess.run(
        [sys.executable, "-W", "ignore", str(ROOT / "reference/fixtures/client_groups.py"), str(out)],
        check=True,
    )
    committed = ROOT / "crates/chain/tests/fixtures/client_groups.json"
    assert out.read_text() == committed.read_text()


def test_ledger_vectors_are_what_go_algorand_says() -> None:
    """Re-evaluates one scenario on the reference (all of them take minutes)."""
    import json

    sys.path.insert(0, str(ROOT / "reference/fixtures"))
    import ledger_vectors

    fresh = ledger_vectors.build(["payments"])
    committed = json.loads((ROOT / "crates/devnet/tests/fixtures/ledger_vectors.json").read_text())
    assert fresh["genesis_hash"] == committed["genesis_hash"]
    expected = next(s for s in committed["scenarios"] if s["name"] == "payments")
    assert fresh["scenarios"] == [expected]
