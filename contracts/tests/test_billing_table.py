"""The shared billing table (also read by the Rust domain tests) against go-algorand.

Every row is evaluated by the contract's `quote` method (the arithmetic `stop`
uses); every row that is a real rental (deposit = price * whole minutes, an
affordable deposit, elapsed within the rental) is also run end to end: rent at
`start`, stop at `start + elapsed` by setting the block timestamp, and compare
the returned settlement, the event and the balances.
"""

from __future__ import annotations

import json
from pathlib import Path

from bitfox_app import EVENTS as BITFOX_EVENTS
from bitfox_app import MIN_FEE, RENTAL_MBR, SIGNATURES, BitFox, listing_key, rental_key
from bitfox_ref import abi
from bitfox_ref.jig import sign_group

TABLE_PATH = Path(__file__).with_name("billing_table.json")
FIELDS = ("price_per_minute", "deposit", "elapsed_seconds", "fee_bps", "cost", "fee", "provider", "refund")
U64_MAX = 2**64 - 1
AFFORDABLE = 90_000_000


def load_table() -> list[dict[str, int]]:
    return json.loads(TABLE_PATH.read_text())


def settle(price: int, deposit: int, elapsed: int, fee_bps: int) -> tuple[int, int, int, int]:
    """design.md: cost = min(ceil(price * elapsed / 60), deposit); fee = floor(cost * bps / 10^4)."""
    cost = min(-(-price * elapsed // 60), deposit)
    fee = cost * fee_bps // 10_000
    return cost, fee, cost - fee, deposit - cost


def is_real_rental(row: dict[str, int]) -> bool:
    price, deposit = row["price_per_minute"], row["deposit"]
    return (
        deposit <= AFFORDABLE and deposit % price == 0 and deposit > 0
        and row["elapsed_seconds"] <= 60 * (deposit // price)
    )


def test_table_shape_and_edge_cases() -> None:
    rows = load_table()
    assert all(tuple(r) == FIELDS and all(type(v) is int for v in r.values()) for r in rows)
    for r in rows:
        assert 0 <= r["price_per_minute"] <= U64_MAX and 0 <= r["deposit"] <= U64_MAX
        assert (r["cost"], r["fee"], r["provider"], r["refund"]) == settle(
            r["price_per_minute"], r["deposit"], r["elapsed_seconds"], r["fee_bps"]
        )
    elapsed = {r["elapsed_seconds"] for r in rows}
    assert {0, 59, 60, 61} <= elapsed
    assert {0, 2000} <= {r["fee_bps"] for r in rows}
    assert any(r["cost"] == r["deposit"] and -(-r["price_per_minute"] * r["elapsed_seconds"] // 60) > r["deposit"] for r in rows)
    assert any(r["price_per_minute"] >= 2**63 for r in rows)
    assert sum(is_real_rental(r) for r in rows) >= 20


def test_every_row_with_quote_on_go_algorand(bitfox: BitFox) -> None:
    caller = bitfox.account("quoter", 10_000_000)
    rows = load_table()
    txns = [
        abi.method_call(
            caller.address, bitfox.app_id, SIGNATURES["quote"],
            [r["price_per_minute"], r["deposit"], r["elapsed_seconds"], r["fee_bps"]],
            note=b"row %d" % i,
        )
        for i, r in enumerate(rows)
    ]
    # one single-call group per row, all in one block
    signed = [s for t in txns for s in sign_group([t], {caller.address: caller.private_key})]
    result = bitfox.ledger.eval(signed)
    for row, outcome in zip(rows, result.txns, strict=True):
        got = abi.return_value(outcome.logs, "(uint64,uint64,uint64,uint64)")
        assert got == [row["cost"], row["fee"], row["provider"], row["refund"]], row


def chunks(rows: list[dict[str, int]], budget: int) -> list[list[dict[str, int]]]:
    """Split rows so that no account ever holds more than `budget` (see README:
    the reference refuses accounts above ~123 ALGO)."""
    out: list[list[dict[str, int]]] = [[]]
    for row in rows:
        if out[-1] and sum(r["deposit"] for r in out[-1]) + row["deposit"] > budget:
            out.append([])
        out[-1].append(row)
    return out


def test_real_rentals_settle_like_the_table(bitfox: BitFox) -> None:
    rows = [r for r in load_table() if is_real_rental(r)]
    for number, chunk in enumerate(chunks(rows, AFFORDABLE)):
        run_rentals(bitfox, chunk, number)


def run_rentals(bitfox: BitFox, rows: list[dict[str, int]], number: int) -> None:
    ledger = bitfox.ledger
    provider = bitfox.account(f"provider-{number}", 1_000_000 + len(rows) * 100_000)
    renter = bitfox.account(f"renter-{number}", 0)
    ledger.fund(renter.address, sum(r["deposit"] + RENTAL_MBR + 2 * MIN_FEE for r in rows) + 1_000_000)

    # One listing per row.
    first_listing = bitfox.next_id("n_listing")
    for i, row in enumerate(rows):
        bitfox.register(provider, row["price_per_minute"], listing_id=first_listing + i)
    stop_at = ledger.now + 10_000

    # Rentals start at stop_at - elapsed, each with the row's fee set just before
    # (the fee is fixed at rent time).
    for i, row in sorted(enumerate(rows), key=lambda item: -item[1]["elapsed_seconds"]):
        start = stop_at - row["elapsed_seconds"]
        bitfox.call(bitfox.admin, "set_fee", [row["fee_bps"]], timestamp=start)
        bitfox.rent(renter, first_listing + i, row["deposit"] // row["price_per_minute"], timestamp=start)

    # All stops in one block at stop_at, by the renter.
    stxns, owed_before = [], bitfox.state()["fees_owed"]
    provider_before = ledger.balance(provider.address)
    renter_before = ledger.balance(renter.address)
    for i, row in enumerate(rows):
        listing_id = first_listing + i
        rental = bitfox.rental(listing_id)
        txn = abi.method_call(
            renter.address, bitfox.app_id, SIGNATURES["stop"], [listing_id, rental["rental_id"]],
            fee=3 * MIN_FEE, accounts=[renter.address, provider.address],
            boxes=[(bitfox.app_id, rental_key(listing_id)), (bitfox.app_id, listing_key(listing_id))],
        )
        stxns += sign_group([txn], {renter.address: renter.private_key})
    result = ledger.eval(stxns, timestamp=stop_at)

    for row, outcome in zip(rows, result.txns, strict=True):
        expected = [row["cost"], row["fee"], row["provider"], row["refund"]]
        assert abi.return_value(outcome.logs, "(uint64,uint64,uint64,uint64)") == expected, row
        (event,) = [e for e in abi.decode_events(outcome.logs, BITFOX_EVENTS) if e.name == "RentalSettled"]
        assert event.values["elapsed"] == row["elapsed_seconds"]
        assert event.values["end"] == stop_at
        assert [event.values[k] for k in ("cost", "fee", "provider_amount", "refund")] == expected
    assert ledger.balance(provider.address) == provider_before + sum(r["provider"] for r in rows)
    assert ledger.balance(renter.address) == renter_before + sum(
        r["refund"] + RENTAL_MBR - 3 * MIN_FEE for r in rows
    )
    assert bitfox.state()["fees_owed"] == owed_before + sum(r["fee"] for r in rows)
