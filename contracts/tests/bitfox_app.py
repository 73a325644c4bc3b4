"""Test client for the BitFox app on the go-algorand reference ledger.

Builds the ARC-4 groups exactly as a wallet would (payments, box references,
foreign accounts, pooled fees), evaluates them as one block each and decodes
return values and ARC-28 events from the ARC-56 spec beside the TEAL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from algosdk import encoding, transaction
from algosdk.logic import get_application_address

from bitfox_ref import RefLedger, abi, compile_teal
from bitfox_ref.abi import Event, EventSpec
from bitfox_ref.accounts import Account, make_account
from bitfox_ref.jig import EvalResult, sign_group, suggested_params

CONTRACTS = Path(__file__).resolve().parents[1]
APPROVAL_PATH = CONTRACTS / "bitfox.teal"
CLEAR_PATH = CONTRACTS / "clear.teal"
SPEC_PATH = CONTRACTS / "bitfox.arc56.json"

MIN_FEE = 1000
LISTING_MBR = 28_500
RENTAL_MBR = 38_100
CLUSTER_DEPOSIT = 173_000
HOLDER_MBR = 34_900
RETIRE_MBR = 9_300
RETIRE_NOTICE = 30 * 24 * 3600
RETIRE_WINDOW = 7 * 24 * 3600    # a notice is honoured for delist from effective to effective + this
MAX_AMOUNT = 2**53 - 1
APP_MIN_BALANCE = 100_000
ASSET_MIN_BALANCE = 100_000
SCALE = 10**12
EXTRA_PAGES = 1
GLOBAL_INTS = 6
GLOBAL_BYTES = 2


def box_mbr(key_len: int, value_len: int) -> int:
    return 2500 + 400 * (key_len + value_len)


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def listing_key(listing_id: int) -> bytes:
    return b"l" + u64(listing_id)


def rental_key(listing_id: int) -> bytes:
    return b"r" + u64(listing_id)


def retire_key(listing_id: int) -> bytes:
    return b"x" + u64(listing_id)


def cluster_key(cluster_id: int) -> bytes:
    return b"c" + u64(cluster_id)


def holder_key(cluster_id: int, address: str) -> bytes:
    return b"h" + u64(cluster_id) + encoding.decode_address(address)


def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def event_specs(spec: dict[str, Any] | None = None) -> list[EventSpec]:
    spec = spec or load_spec()
    return [
        EventSpec(e["name"], tuple((a["name"], a["type"]) for a in e["args"]))
        for e in spec["events"]
    ]


def method_signature(method: dict[str, Any]) -> str:
    args = ",".join(a["type"] for a in method["args"])
    return f"{method['name']}({args}){method['returns']['type']}"


SIGNATURES = {m["name"]: method_signature(m) for m in load_spec()["methods"]}
RETURNS = {m["name"]: m["returns"]["type"] for m in load_spec()["methods"]}
EVENTS = event_specs()


@dataclass
class Call:
    """Outcome of one evaluated group."""

    result: EvalResult
    value: Any
    events: list[Event]
    logs: list[bytes]

    def event(self, name: str) -> dict[str, Any]:
        found = [e.values for e in self.events if e.name == name]
        assert len(found) == 1, f"expected one {name} event, got {self.events}"
        return found[0]


def addr_bytes(address: str) -> bytes:
    return encoding.decode_address(address)


class BitFox:
    """The app deployed on a RefLedger, plus a few named accounts."""

    def __init__(
        self, ledger: RefLedger | None = None, approval: str | None = None, probe: bool = False
    ) -> None:
        """`probe`: the approval logs one extra value last (cost measurement build)."""
        self.ledger = ledger or RefLedger()
        self.probe = probe
        self.approval_source = approval or APPROVAL_PATH.read_text()
        self.approval = compile_teal(self.approval_source)
        self.clear = compile_teal(CLEAR_PATH.read_text())
        self.admin = make_account("admin")
        self.treasury = make_account("treasury")
        self.ledger.fund(self.admin.address, 10_000_000)
        self.ledger.fund(self.treasury.address, 1_000_000)
        self.app_id = 0
        self.fees_paid = 0

    # ----- plumbing ----------------------------------------------------------
    @property
    def app_address(self) -> str:
        return get_application_address(self.app_id)

    def account(self, label: str, microalgos: int = 0) -> Account:
        acct = make_account(label)
        if microalgos:
            self.ledger.fund(acct.address, microalgos)
        return acct

    def submit(
        self, txns: Sequence[transaction.Transaction], signers: Sequence[Account],
        timestamp: int | None = None,
    ) -> EvalResult:
        keys = {a.address: a.private_key for a in signers}
        stxns = sign_group(txns, keys)
        result = self.ledger.eval(stxns, timestamp=timestamp)
        self.fees_paid += sum(t.fee for t in txns)
        return result

    def call(
        self, sender: Account, method: str, args: Sequence[Any] = (), *,
        pay: int | None = None, pay_to: str | None = None, fee: int = MIN_FEE,
        accounts: Sequence[str] = (), assets: Sequence[int] = (),
        boxes: Sequence[bytes] = (), timestamp: int | None = None,
        mutate: Any = None, signers: Sequence[Account] | None = None,
    ) -> Call:
        """Build [payment?, app call], evaluate it, decode the return and events.

        `mutate(txns)` may tamper with the unsigned group (attack tests).
        """
        app_call = abi.method_call(
            sender.address, self.app_id, SIGNATURES[method], args, fee=fee,
            accounts=list(accounts) or None, foreign_assets=list(assets) or None,
            boxes=[(self.app_id, b) for b in boxes] or None,
        )
        txns: list[transaction.Transaction] = [app_call]
        if pay is not None:
            payment = transaction.PaymentTxn(
                sender.address, suggested_params(), pay_to or self.app_address, pay
            )
            txns.insert(0, payment)
        if mutate is not None:
            txns = mutate(txns) or txns
        result = self.submit(txns, signers or [sender], timestamp)
        outcome = result.txns[len(txns) - 1]
        logs = outcome.logs
        decoded = logs[:-1] if self.probe else logs
        value = None
        if RETURNS[method] != "void":
            value = abi.return_value(decoded, RETURNS[method])
        return Call(result, value, abi.decode_events(decoded, EVENTS), logs)

    # ----- lifecycle ---------------------------------------------------------
    def deploy(self, fee_bps: int = 250, treasury: str | None = None, mutate: Any = None) -> Call:
        """Create the app (`treasury` defaults to the treasury account; `mutate(txn)`
        may tamper with the unsigned creation call)."""
        create = abi.method_call(
            self.admin.address, 0, "create(address,uint64)void",
            [treasury or self.treasury.address, fee_bps],
            approval_program=self.approval.bytecode, clear_program=self.clear.bytecode,
            global_schema=transaction.StateSchema(GLOBAL_INTS, GLOBAL_BYTES),
            local_schema=transaction.StateSchema(0, 0), extra_pages=EXTRA_PAGES,
        )
        if mutate is not None:
            mutate([create])
        result = self.submit([create], [self.admin])
        self.app_id = result.txns[0].created_app
        assert self.app_id
        # The deployer funds the app account's own minimum balance.
        fund = transaction.PaymentTxn(
            self.admin.address, suggested_params(), self.app_address, APP_MIN_BALANCE
        )
        self.submit([fund], [self.admin])
        logs = result.txns[0].logs
        decoded = logs[:-1] if self.probe else logs
        return Call(result, None, abi.decode_events(decoded, EVENTS), logs)

    def state(self) -> dict[str, Any]:
        raw = self.ledger.global_state(self.app_id)
        return {k.decode(): v for k, v in raw.items()}

    def next_id(self, counter: str) -> int:
        return int(self.state()[counter]) + 1

    def register(self, provider: Account, price: int, cluster_id: int = 0, **kw: Any) -> Call:
        listing_id = kw.pop("listing_id", None) or self.next_id("n_listing")
        boxes = [listing_key(listing_id)] + ([cluster_key(cluster_id)] if cluster_id else [])
        return self.call(
            provider, "register_listing", [price, cluster_id],
            pay=kw.pop("pay", LISTING_MBR), boxes=boxes, **kw,
        )

    def update_price(self, provider: Account, listing_id: int, price: int, **kw: Any) -> Call:
        return self.call(provider, "update_price", [listing_id, price],
                         boxes=[listing_key(listing_id)], **kw)

    def delist(self, provider: Account, listing_id: int, **kw: Any) -> Call:
        """A listing in a cluster also names the cluster, the unsold-shares record, the
        provider's own holder record and the retirement box (v2)."""
        boxes = kw.pop("boxes", None)
        if boxes is None:
            boxes = self.delist_boxes(provider.address, listing_id)
        return self.call(provider, "delist", [listing_id], boxes=boxes,
                         fee=kw.pop("fee", 2 * MIN_FEE), **kw)

    def delist_boxes(self, provider: str, listing_id: int) -> list[bytes]:
        listing = self.listing(listing_id)
        boxes = [listing_key(listing_id)]
        if listing and listing["cluster_id"]:
            cid = listing["cluster_id"]
            boxes += [cluster_key(cid), holder_key(cid, self.app_address),
                      holder_key(cid, provider), retire_key(listing_id)]
        return boxes

    def announce_retirement(self, provider: Account, listing_id: int, **kw: Any) -> Call:
        return self.call(
            provider, "announce_retirement", [listing_id], pay=kw.pop("pay", RETIRE_MBR),
            boxes=kw.pop("boxes", [listing_key(listing_id), retire_key(listing_id)]), **kw,
        )

    def retirement(self, listing_id: int) -> int | None:
        """The effective time of an announced retirement (pending, in force or lapsed),
        None if not announced."""
        raw = self.ledger.box(self.app_id, retire_key(listing_id))
        return None if raw is None else int.from_bytes(raw, "big")

    def listing(self, listing_id: int) -> dict[str, Any] | None:
        raw = self.ledger.box(self.app_id, listing_key(listing_id))
        if raw is None:
            return None
        return {
            "provider": encoding.encode_address(raw[0:32]),
            "price": int.from_bytes(raw[32:40], "big"),
            "cluster_id": int.from_bytes(raw[40:48], "big"),
            "rental_id": int.from_bytes(raw[48:56], "big"),
        }

    def rental(self, listing_id: int) -> dict[str, Any] | None:
        raw = self.ledger.box(self.app_id, rental_key(listing_id))
        if raw is None:
            return None
        fields = [int.from_bytes(raw[o:o + 8], "big") for o in (40, 48, 56, 64, 72)]
        return {
            "rental_id": int.from_bytes(raw[0:8], "big"),
            "renter": encoding.encode_address(raw[8:40]),
            **dict(zip(("start", "max_end", "deposit", "price", "fee_bps"), fields)),
        }

    def rent(self, renter: Account, listing_id: int, minutes: int, **kw: Any) -> Call:
        listing = self.listing(listing_id)
        price = listing["price"] if listing else 1
        pay = kw.pop("pay", price * minutes + RENTAL_MBR)
        return self.call(
            renter, "rent", [listing_id, minutes], pay=pay,
            boxes=[listing_key(listing_id), rental_key(listing_id)], **kw,
        )

    def extend(self, renter: Account, listing_id: int, rental_id: int, minutes: int, **kw: Any) -> Call:
        rental = self.rental(listing_id)
        price = rental["price"] if rental else 1
        pay = kw.pop("pay", price * minutes)
        return self.call(
            renter, "extend", [listing_id, rental_id, minutes], pay=pay,
            boxes=[rental_key(listing_id)], **kw,
        )

    def stop(self, caller: Account, listing_id: int, rental_id: int | None = None, **kw: Any) -> Call:
        rental = self.rental(listing_id)
        listing = self.listing(listing_id)
        if rental_id is None:
            rental_id = rental["rental_id"] if rental else 0
        accounts = kw.pop("accounts", None)
        if accounts is None:
            accounts = [a for a in (rental and rental["renter"], listing and listing["provider"]) if a]
        boxes = [rental_key(listing_id), listing_key(listing_id)]
        if listing and listing["cluster_id"]:
            boxes.append(cluster_key(listing["cluster_id"]))
        return self.call(
            caller, "stop", [listing_id, rental_id], fee=kw.pop("fee", 3 * MIN_FEE),
            accounts=accounts, boxes=boxes, **kw,
        )

    def quote(self, caller: Account, price: int, deposit: int, elapsed: int, fee_bps: int) -> Call:
        return self.call(caller, "quote", [price, deposit, elapsed, fee_bps])

    def withdraw_fees(self, caller: Account, **kw: Any) -> Call:
        return self.call(caller, "withdraw_fees", [], fee=kw.pop("fee", 2 * MIN_FEE),
                         accounts=kw.pop("accounts", [encoding.encode_address(self.state()["treasury"])]), **kw)

    # ----- clusters ----------------------------------------------------------
    def create_cluster(self, operator: Account, shares: int, price_per_share: int,
                       url: str = "https://bitfox.example/clusters/1.json", **kw: Any) -> Call:
        cluster_id = self.next_id("n_cluster")
        return self.call(
            operator, "create_cluster", [shares, price_per_share, url],
            pay=kw.pop("pay", CLUSTER_DEPOSIT), fee=kw.pop("fee", 2 * MIN_FEE),
            boxes=[cluster_key(cluster_id), holder_key(cluster_id, self.app_address)], **kw,
        )

    def cluster(self, cluster_id: int) -> dict[str, Any] | None:
        raw = self.ledger.box(self.app_id, cluster_key(cluster_id))
        if raw is None:
            return None
        return {
            "operator": encoding.encode_address(raw[0:32]),
            "asset_id": int.from_bytes(raw[32:40], "big"),
            "total": int.from_bytes(raw[40:48], "big"),
            "price_per_share": int.from_bytes(raw[48:56], "big"),
            "acc": int.from_bytes(raw[56:72], "big"),
            "rem": int.from_bytes(raw[72:80], "big"),
        }

    def holder(self, cluster_id: int, address: str) -> dict[str, int] | None:
        raw = self.ledger.box(self.app_id, holder_key(cluster_id, address))
        if raw is None:
            return None
        return {
            "shares": int.from_bytes(raw[0:8], "big"),
            "ckpt": int.from_bytes(raw[8:24], "big"),
            "dust": int.from_bytes(raw[24:32], "big"),
            "owed": int.from_bytes(raw[32:40], "big"),
        }

    def opt_in(self, account: Account, asset_id: int) -> EvalResult:
        txn = transaction.AssetTransferTxn(
            account.address, suggested_params(), account.address, 0, asset_id
        )
        return self.submit([txn], [account])

    def join(self, holder: Account, cluster_id: int, **kw: Any) -> Call:
        return self.call(
            holder, "join_cluster", [cluster_id], pay=kw.pop("pay", HOLDER_MBR),
            boxes=[cluster_key(cluster_id), holder_key(cluster_id, holder.address)], **kw,
        )

    def buy(self, buyer: Account, cluster_id: int, count: int, **kw: Any) -> Call:
        cluster = self.cluster(cluster_id)
        return self.call(
            buyer, "buy_shares", [cluster_id, count],
            pay=kw.pop("pay", count * cluster["price_per_share"]),
            pay_to=kw.pop("pay_to", cluster["operator"]), fee=kw.pop("fee", 2 * MIN_FEE),
            assets=[cluster["asset_id"]],
            boxes=[cluster_key(cluster_id), holder_key(cluster_id, self.app_address),
                   holder_key(cluster_id, buyer.address)], **kw,
        )

    def transfer(self, sender: Account, cluster_id: int, to: str, count: int, **kw: Any) -> Call:
        cluster = self.cluster(cluster_id)
        return self.call(
            sender, "transfer_shares", [cluster_id, 1, count], fee=kw.pop("fee", 2 * MIN_FEE),
            accounts=[to], assets=[cluster["asset_id"]],
            boxes=[cluster_key(cluster_id), holder_key(cluster_id, sender.address),
                   holder_key(cluster_id, to)], **kw,
        )

    def claim(self, holder: Account, cluster_id: int, **kw: Any) -> Call:
        return self.call(
            holder, "claim", [cluster_id], fee=kw.pop("fee", 2 * MIN_FEE),
            boxes=[cluster_key(cluster_id), holder_key(cluster_id, holder.address)], **kw,
        )

    def claim_unsold(self, operator: Account, cluster_id: int, **kw: Any) -> Call:
        return self.call(
            operator, "claim_unsold", [cluster_id], fee=kw.pop("fee", 2 * MIN_FEE),
            boxes=[cluster_key(cluster_id), holder_key(cluster_id, self.app_address)], **kw,
        )
