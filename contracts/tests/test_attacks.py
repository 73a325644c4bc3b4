"""Failure paths and attacks: each must be rejected by go-algorand and change nothing."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest
from algosdk import transaction

from bitfox_app import (
    LISTING_MBR, MIN_FEE, RENTAL_MBR, SIGNATURES, BitFox, listing_key, rental_key,
)
from bitfox_ref import Rejected, abi
from bitfox_ref.jig import sign_group, suggested_params

ASSERT = "assert failed"


def snapshot(bitfox: BitFox) -> tuple[Any, ...]:
    ledger = bitfox.ledger
    return (
        copy.deepcopy({a: v["balances"] for a, v in ledger.accounts.items() if a != ledger.ticker.address}),
        copy.deepcopy(ledger.boxes),
        copy.deepcopy(ledger.global_states),
    )


def rejected(bitfox: BitFox, action: Callable[[], Any], match: str = "") -> str:
    before = snapshot(bitfox)
    with pytest.raises(Rejected) as info:
        action()
    assert match in str(info.value), str(info.value)
    assert snapshot(bitfox) == before
    return str(info.value)


@pytest.fixture
def market(bitfox: BitFox) -> dict[str, Any]:
    provider = bitfox.account("provider", 5_000_000)
    renter = bitfox.account("renter", 20_000_000)
    stranger = bitfox.account("stranger", 5_000_000)
    bitfox.register(provider, 1000)
    return {"app": bitfox, "provider": provider, "renter": renter, "stranger": stranger}


def rented(market: dict[str, Any]) -> BitFox:
    app = market["app"]
    app.rent(market["renter"], 1, 10)
    return app


# ----- group shape, rekey, close-to ---------------------------------------------------
def test_register_requires_exact_mbr_payment(market: dict[str, Any]) -> None:
    app, p = market["app"], market["provider"]
    rejected(app, lambda: app.register(p, 1000, pay=LISTING_MBR - 1), ASSERT)
    rejected(app, lambda: app.register(p, 1000, pay=LISTING_MBR + 1), ASSERT)
    rejected(app, lambda: app.register(p, 0), ASSERT)
    rejected(app, lambda: app.register(p, 1000, pay_to=market["stranger"].address), ASSERT)


def test_register_payment_from_someone_else(market: dict[str, Any]) -> None:
    app, p, s = market["app"], market["provider"], market["stranger"]

    def payer_is_stranger(txns: list) -> None:
        txns[0] = transaction.PaymentTxn(s.address, suggested_params(), app.app_address, LISTING_MBR)

    rejected(app, lambda: app.register(p, 1000, mutate=payer_is_stranger, signers=[p, s]), ASSERT)


def test_wrong_group_size_or_position(market: dict[str, Any]) -> None:
    app, p = market["app"], market["provider"]
    # no payment at all
    rejected(app, lambda: app.register(p, 1000, pay=None), ASSERT)
    # payment after the call
    rejected(app, lambda: app.register(p, 1000, mutate=lambda t: [t[1], t[0]]), ASSERT)
    # an extra transaction in the group
    extra = lambda t: t + [transaction.PaymentTxn(p.address, suggested_params(), p.address, 0, note=b"x")]
    rejected(app, lambda: app.register(p, 1000, mutate=extra), ASSERT)
    # a single-call method inside a larger group
    rejected(app, lambda: app.update_price(p, 1, 5, mutate=lambda t: [extra(t)[1], t[0]]), ASSERT)


def test_rekey_and_close_remainder_rejected(market: dict[str, Any]) -> None:
    app, p, s = market["app"], market["provider"], market["stranger"]

    def rekey_payment(txns: list) -> None:
        txns[0].rekey_to = s.address

    def close_payment(txns: list) -> None:
        # the payment closes the caller's account, so it pays both fees
        txns[0].close_remainder_to = s.address
        txns[0].fee, txns[1].fee = 2 * MIN_FEE, 0

    def rekey_call(txns: list) -> None:
        txns[-1].rekey_to = s.address

    # Rekeying the payment also re-keys the caller for the rest of the group, so
    # sign the call with the new key to reach the contract's own check.
    def rekeyed_group() -> None:
        txns = [
            transaction.PaymentTxn(p.address, suggested_params(), app.app_address, LISTING_MBR, rekey_to=s.address),
            abi.method_call(p.address, app.app_id, SIGNATURES["register_listing"], [1000, 0],
                            boxes=[(app.app_id, listing_key(2))]),
        ]
        transaction.assign_group_id(txns)
        app.ledger.eval([txns[0].sign(p.private_key), txns[1].sign(s.private_key)])

    rejected(app, rekeyed_group, ASSERT)
    rejected(app, lambda: app.register(p, 1000, mutate=rekey_payment), "should have been authorized")
    rejected(app, lambda: app.register(p, 1000, mutate=close_payment), ASSERT)
    rejected(app, lambda: app.register(p, 1000, mutate=rekey_call), ASSERT)
    rejected(app, lambda: app.rent(market["renter"], 1, 1, mutate=close_payment), ASSERT)
    rejected(app, lambda: app.update_price(p, 1, 7, mutate=rekey_call), ASSERT)


def test_asset_transfer_with_close_to_instead_of_payment(market: dict[str, Any]) -> None:
    app, p, r = market["app"], market["provider"], market["renter"]
    call = app.create_cluster(p, 10, 1)
    asset_id = call.value[1]
    app.opt_in(r, asset_id)

    def axfer_close(txns: list) -> None:
        txns[0] = transaction.AssetTransferTxn(
            r.address, suggested_params(), app.app_address, 0, asset_id, close_assets_to=app.app_address
        )

    rejected(app, lambda: app.rent(r, 1, 1, mutate=axfer_close), ASSERT)


def test_rent_refuses_asset_transfer_in_place_of_payment(market: dict[str, Any]) -> None:
    app, r = market["app"], market["renter"]

    def appl_instead(txns: list) -> None:
        txns[0] = abi.method_call(r.address, app.app_id, SIGNATURES["quote"], [1, 1, 1, 1])

    rejected(app, lambda: app.rent(r, 1, 1, mutate=appl_instead), ASSERT)


# ----- listings ---------------------------------------------------------------------
def test_listing_owner_checks(market: dict[str, Any]) -> None:
    app, p, s = market["app"], market["provider"], market["stranger"]
    rejected(app, lambda: app.update_price(s, 1, 1), ASSERT)
    rejected(app, lambda: app.update_price(p, 1, 0), ASSERT)
    rejected(app, lambda: app.update_price(p, 9, 10, ), "")
    rejected(app, lambda: app.delist(s, 1), ASSERT)


def test_delist_not_while_rented_and_not_twice(market: dict[str, Any]) -> None:
    app, p = market["app"], market["provider"]
    rented(market)
    rejected(app, lambda: app.delist(p, 1), ASSERT)
    app.stop(p, 1)
    app.delist(p, 1)
    rejected(app, lambda: app.delist(p, 1), ASSERT)


def test_register_in_foreign_or_missing_cluster(market: dict[str, Any]) -> None:
    app, p, s = market["app"], market["provider"], market["stranger"]
    app.create_cluster(p, 10, 1)
    rejected(app, lambda: app.register(s, 1000, cluster_id=1), ASSERT)
    rejected(app, lambda: app.register(s, 1000, cluster_id=7), "")


# ----- rent / extend ----------------------------------------------------------------
def test_rent_checks(market: dict[str, Any]) -> None:
    app, r, s = market["app"], market["renter"], market["stranger"]
    rejected(app, lambda: app.rent(r, 1, 0), ASSERT)
    rejected(app, lambda: app.rent(r, 1, 10, pay=10_000 + RENTAL_MBR - 1), ASSERT)
    rejected(app, lambda: app.rent(r, 1, 10, pay=10_000 + RENTAL_MBR + 1), ASSERT)
    rejected(app, lambda: app.rent(r, 2, 1), "")  # no such listing
    app.rent(r, 1, 10)
    rejected(app, lambda: app.rent(s, 1, 1), ASSERT)  # already rented


def test_rent_when_paused(market: dict[str, Any]) -> None:
    app, r, s = market["app"], market["renter"], market["stranger"]
    app.call(app.admin, "set_paused", [True])
    rejected(app, lambda: app.rent(r, 1, 1), ASSERT)
    app.call(app.admin, "set_paused", [False])
    app.rent(r, 1, 1)


def test_overflow_price_times_minutes(market: dict[str, Any]) -> None:
    app, p, r = market["app"], market["provider"], market["renter"]
    app.register(p, 2**63)
    rejected(app, lambda: app.rent(r, 2, 2, pay=0), "* overflowed")
    app.register(p, 2**64 - 1)
    rejected(app, lambda: app.rent(r, 3, 1, pay=0), "+ overflowed")  # deposit + box MBR
    rejected(app, lambda: app.rent(r, 1, 2**64 - 1, pay=0), "* overflowed")


def test_extend_checks(market: dict[str, Any]) -> None:
    app, r, s = market["app"], market["renter"], market["stranger"]
    rented(market)
    t0 = app.ledger.now
    rejected(app, lambda: app.extend(s, 1, 1, 1), ASSERT)
    rejected(app, lambda: app.extend(r, 1, 2, 1), ASSERT)  # wrong rental id
    rejected(app, lambda: app.extend(r, 1, 1, 1, pay=999), ASSERT)
    rejected(app, lambda: app.extend(r, 1, 1, 0, pay=0), ASSERT)
    rejected(app, lambda: app.extend(r, 1, 1, 1, timestamp=t0 + 600), ASSERT)  # expired


# ----- stop -----------------------------------------------------------------------------
def test_stop_authorisation(market: dict[str, Any]) -> None:
    app, s = market["app"], market["stranger"]
    rented(market)
    t0 = app.ledger.now
    rejected(app, lambda: app.stop(s, 1, timestamp=t0 + 599), ASSERT)
    app.stop(s, 1, timestamp=t0 + 600)


def test_stop_wrong_rental_id_and_double_settle(market: dict[str, Any]) -> None:
    app, r = market["app"], market["renter"]
    rented(market)
    rejected(app, lambda: app.stop(r, 1, 2), ASSERT)
    rejected(app, lambda: app.stop(r, 1, 0), ASSERT)
    boxes = [(app.app_id, rental_key(1)), (app.app_id, listing_key(1))]
    txn = abi.method_call(
        r.address, app.app_id, SIGNATURES["stop"], [1, 1], fee=3 * MIN_FEE,
        accounts=[r.address, market["provider"].address], boxes=boxes,
    )
    signed = sign_group([txn], {r.address: r.private_key})
    # the same signed transaction twice in one block: the ledger refuses the duplicate
    rejected(app, lambda: app.ledger.eval(signed + signed), "already in ledger")
    app.ledger.eval(signed)
    # replayed in a later block (the reference keeps no txn history between blocks):
    # the contract refuses it because the rental is gone
    rejected(app, lambda: app.ledger.eval(signed), "")
    # a new rental of the same listing has a new id: the old stop cannot touch it
    app.rent(r, 1, 5)
    rejected(app, lambda: app.ledger.eval(signed), ASSERT)


def test_fee_drain_impossible(market: dict[str, Any]) -> None:
    app, r = market["app"], market["renter"]
    rented(market)
    t0 = app.ledger.now
    # the outer call must pool the inner fees; the app never pays a fee itself
    rejected(app, lambda: app.stop(r, 1, fee=MIN_FEE, timestamp=t0 + 60), "fee too small")
    rejected(app, lambda: app.stop(r, 1, fee=2 * MIN_FEE, timestamp=t0 + 60), "fee too small")
    call = app.stop(r, 1, timestamp=t0 + 60)
    inner = call.result.txns[0].inner
    assert len(inner) == 2 and all(i[b"txn"].get(b"fee", 0) == 0 for i in inner)
    rejected(app, lambda: app.delist(market["provider"], 1, fee=MIN_FEE), "fee too small")


# ----- admin, update/delete, unknown methods --------------------------------------------
def test_admin_only(market: dict[str, Any]) -> None:
    app, s = market["app"], market["stranger"]
    rejected(app, lambda: app.call(s, "set_fee", [10]), ASSERT)
    rejected(app, lambda: app.call(app.admin, "set_fee", [2001]), ASSERT)
    rejected(app, lambda: app.call(s, "set_treasury", [s.address]), ASSERT)
    rejected(app, lambda: app.call(s, "set_paused", [True]), ASSERT)
    rejected(app, lambda: app.call(s, "set_admin", [s.address]), ASSERT)
    rejected(app, lambda: app.quote(s, 1, 1, 1, 2001), ASSERT)


def test_create_rejects_excessive_fee() -> None:
    fresh = BitFox()
    with pytest.raises(Rejected, match=ASSERT):
        fresh.deploy(fee_bps=2001)


@pytest.mark.parametrize("on_complete", [
    transaction.OnComplete.UpdateApplicationOC,
    transaction.OnComplete.DeleteApplicationOC,
    transaction.OnComplete.OptInOC,
    transaction.OnComplete.CloseOutOC,
])
def test_immutable_and_no_local_state(market: dict[str, Any], on_complete: transaction.OnComplete) -> None:
    app = market["app"]
    for who in (market["stranger"], app.admin):
        def attempt() -> None:
            if on_complete == transaction.OnComplete.UpdateApplicationOC:
                txn = transaction.ApplicationUpdateTxn(
                    who.address, suggested_params(), app.app_id,
                    app.clear.bytecode, app.clear.bytecode,
                )
            else:
                txn = transaction.ApplicationCallTxn(who.address, suggested_params(), app.app_id, on_complete)
            app.ledger.eval(sign_group([txn], {who.address: who.private_key}))
        rejected(app, attempt, "")


def test_unknown_method_and_create_on_existing_app(market: dict[str, Any]) -> None:
    app, s = market["app"], market["stranger"]

    def call(args: list[bytes]) -> None:
        txn = transaction.ApplicationCallTxn(s.address, suggested_params(), app.app_id, 0, app_args=args)
        app.ledger.eval(sign_group([txn], {s.address: s.private_key}))

    rejected(app, lambda: call([abi.selector("create(address,uint64)void"), bytes(32), bytes(8)]), "err opcode")
    rejected(app, lambda: call([b"\x00\x01\x02\x03"]), "err opcode")
    rejected(app, lambda: call([]), "")
