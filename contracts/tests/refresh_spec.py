"""Refresh the embedded TEAL source and bytecode of contracts/bitfox.arc56.json.

Run after editing the TEAL:  .venv/bin/python contracts/tests/refresh_spec.py
(test_spec.py fails until the spec matches the programs).
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "reference"))

from bitfox_ref import compile_teal  # noqa: E402

CONTRACTS = HERE.parent


def refreshed(spec: dict) -> dict:
    approval = (CONTRACTS / "bitfox.teal").read_text()
    clear = (CONTRACTS / "clear.teal").read_text()
    spec["source"] = {
        "approval": base64.b64encode(approval.encode()).decode(),
        "clear": base64.b64encode(clear.encode()).decode(),
    }
    spec["byteCode"] = {"approval": compile_teal(approval).b64, "clear": compile_teal(clear).b64}
    return spec


if __name__ == "__main__":
    path = CONTRACTS / "bitfox.arc56.json"
    spec = refreshed(json.loads(path.read_text()))
    path.write_text(json.dumps(spec, indent=2) + "\n")
    print(f"refreshed {path}")
