"""Shared fixtures: the reference harness and a deployed BitFox app."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# py-algorand-sdk 2.x deprecates Transaction.sign in favour of signer objects.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="algosdk")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning")


@pytest.fixture
def bitfox():
    from bitfox_app import BitFox

    app = BitFox()
    app.deploy()
    return app
