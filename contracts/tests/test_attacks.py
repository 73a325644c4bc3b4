"""Failure paths and attacks: each must be rejected by go-algorand and change nothing."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest
from algosdk import transaction

from algosdk.logic import get_application_address

from bitfox_app import (
    LISTING_MBR, MAX_AMOUNT, MIN_FEE, RENTAL_MBR, SIGNATURES, BitFox, listing_key, rental_key,
)
from bitfox_ref import Rejected, abi
from bitfox_ref.abi import TXN_TYPES
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
    rejected(app, lambda: app.update_price(p, 9, 10), ASSERT)  # no such listing
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
    rejected(app, lambda: app.register(s, 1000, cluster_id=7), "no such box")


# ----- rent / extend ----------------------------------------------------------------
def test_rent_checks(market: dict[str, Any]) -> None:
    app, r, s = market["app"], market["renter"], market["stranger"]
    rejected(app, lambda: app.rent(r, 1, 0), ASSERT)
    rejected(app, lambda: app.rent(r, 1, 10, pay=10_000 + RENTAL_MBR - 1), ASSERT)
    rejected(app, lambda: app.rent(r, 1, 10, pay=10_000 + RENTAL_MBR + 1), ASSERT)
    rejected(app, lambda: app.rent(r, 2, 1), ASSERT)  # no such listing
    app.rent(r, 1, 10)
    rejected(app, lambda: app.rent(s, 1, 1), ASSERT)  # already rented


def test_rent_when_paused(market: dict[str, Any]) -> None:
    app, r = market["app"], market["renter"]
    app.call(app.admin, "set_paused", [True])
    rejected(app, lambda: app.rent(r, 1, 1), ASSERT)
    app.call(app.admin, "set_paused", [False])
    app.rent(r, 1, 1)


def test_overflow_price_times_minutes(market: dict[str, Any]) -> None:
    app, p, r = market["app"], market["provider"], market["renter"]
    app.register(p, MAX_AMOUNT)
    # (2^53 - 1) * 2049 > 2^64 - 1
    rejected(app, lambda: app.rent(r, 2, 2049, pay=0), "* overflowed")
    # 2^64 - 1 = (3·5·17·257·641) · (65537·6700417): the deposit fits, plus the box MBR not
    app.register(p, 3 * 5 * 17 * 257 * 641)
    rejected(app, lambda: app.rent(r, 3, 65537 * 6700417, pay=0), "+ overflowed")
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
    rejected(app, lambda: app.ledger.eval(signed), ASSERT)
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
        rejected(app, attempt, ASSERT)  # OnCompletion must be NoOp


def test_unknown_method_and_create_on_existing_app(market: dict[str, Any]) -> None:
    app, s = market["app"], market["stranger"]

    def call(args: list[bytes]) -> None:
        txn = transaction.ApplicationCallTxn(s.address, suggested_params(), app.app_id, 0, app_args=args)
        app.ledger.eval(sign_group([txn], {s.address: s.private_key}))

    rejected(app, lambda: call([abi.selector("create(address,uint64)void"), bytes(32), bytes(8)]), "err opcode")
    rejected(app, lambda: call([b"\x00\x01\x02\x03"]), "err opcode")
    rejected(app, lambda: call([]), "invalid ApplicationArgs index")


def close_account(app: BitFox, who: Any, to: Any) -> None:
    txn = transaction.PaymentTxn(who.address, suggested_params(), to.address, 0, close_remainder_to=to.address)
    app.submit([txn], [who])
    assert app.ledger.balance(who.address) == 0


def test_closed_provider_cannot_block_settlement(market: dict[str, Any]) -> None:
    """A payment below MinBalance cannot re-open a closed account; instead of
    blocking the renter, the provider's part is forfeited to the platform."""
    app, p, r, s = market["app"], market["provider"], market["renter"], market["stranger"]
    rented(market)
    t0 = app.ledger.now
    close_account(app, p, s)
    owed = app.state()["fees_owed"]
    renter_before = app.ledger.balance(r.address)
    call = app.stop(r, 1, timestamp=t0 + 60)
    cost, fee, provider_part, refund = call.value
    assert (cost, fee, provider_part) == (1000, 25, 975)
    assert call.event("PayoutForfeited") == {"rental_id": 1, "payee": p.address, "amount": 975}
    assert app.ledger.balance(p.address) == 0
    assert app.state()["fees_owed"] == owed + fee + provider_part
    assert app.ledger.balance(r.address) == renter_before + refund + RENTAL_MBR - 3 * MIN_FEE


def test_closed_renter_cannot_block_settlement(market: dict[str, Any]) -> None:
    app, p, r, s = market["app"], market["provider"], market["renter"], market["stranger"]
    app.rent(r, 1, 10)
    t0 = app.ledger.now
    close_account(app, r, s)
    provider_before = app.ledger.balance(p.address)
    call = app.stop(p, 1, timestamp=t0 + 540)  # refund 1000 + 38100 MBR < 0.1 ALGO
    assert call.value == [9000, 225, 8775, 1000]
    assert call.event("PayoutForfeited") == {"rental_id": 1, "payee": r.address, "amount": 1000 + RENTAL_MBR}
    assert app.ledger.balance(p.address) == provider_before + 8775 - 3 * MIN_FEE
    # a payout of at least 0.1 ALGO simply re-opens the closed account
    reopen = transaction.PaymentTxn(s.address, suggested_params(), r.address, 1_000_000)
    app.submit([reopen], [s])
    app.update_price(p, 1, 20_000)
    app.rent(r, 1, 10, timestamp=t0 + 600)
    close_account(app, r, s)
    call = app.stop(p, 1, timestamp=t0 + 660)
    assert call.value[3] == 180_000
    assert "PayoutForfeited" not in [e.name for e in call.events]
    assert app.ledger.balance(r.address) == 180_000 + RENTAL_MBR


def test_malformed_arc4_arguments(market: dict[str, Any]) -> None:
    app, p = market["app"], market["provider"]

    def raw_call(sender: Any, method: str, args: list[bytes], **kw: Any) -> None:
        txn = transaction.ApplicationCallTxn(
            sender.address, suggested_params(fee=kw.get("fee", MIN_FEE)), app.app_id, 0,
            app_args=[abi.selector(SIGNATURES[method]), *args], boxes=kw.get("boxes"),
        )
        txns = [txn]
        if "pay" in kw:
            txns.insert(0, transaction.PaymentTxn(sender.address, suggested_params(), app.app_address, kw["pay"]))
        app.ledger.eval(sign_group(txns, {sender.address: sender.private_key}))

    rejected(app, lambda: raw_call(app.admin, "set_paused", [b"\x01"]), ASSERT)
    rejected(app, lambda: raw_call(app.admin, "set_paused", [b"\x80\x00"]), ASSERT)
    rejected(app, lambda: raw_call(app.admin, "set_treasury", [bytes(31)]), ASSERT)
    cluster_boxes = [(app.app_id, b"c" + (1).to_bytes(8, "big")),
                     (app.app_id, b"h" + (1).to_bytes(8, "big") + transaction.encoding.decode_address(app.app_address))]
    bad_url = (5).to_bytes(2, "big") + b"abc"
    rejected(app, lambda: raw_call(p, "create_cluster", [(10).to_bytes(8, "big"), (1).to_bytes(8, "big"), bad_url],
                                   pay=173_000, fee=2 * MIN_FEE, boxes=cluster_boxes), ASSERT)
    good_url = (3).to_bytes(2, "big") + b"abc"
    raw_call(p, "create_cluster", [(10).to_bytes(8, "big"), (1).to_bytes(8, "big"), good_url],
             pay=173_000, fee=2 * MIN_FEE, boxes=cluster_boxes)
    assert app.cluster(1)["total"] == 10


# ----- v2: exact ARC-4 arguments, amount bounds, addresses ------------------------------
def arg_types(method: str) -> list[str]:
    return [t for t in abi._types(SIGNATURES[method]) if t not in TXN_TYPES]


def malformed(method: str) -> list[tuple[str, Callable[[list[bytes]], list[bytes]]]]:
    """Every way to mis-size the ARC-4 arguments of `method`, most keeping btoi's value:
    a uint64 of 7 bytes (leading zero dropped), 9 (a zero prepended) or 0 bytes; an
    address of 31 or 33; a bool or account index of 0 or 2; a string whose length prefix
    is off by one; one argument missing or one extra."""
    out: list[tuple[str, Callable[[list[bytes]], list[bytes]]]] = []

    def at(i: int, change: Callable[[bytes], bytes]) -> Callable[[list[bytes]], list[bytes]]:
        return lambda args: args[:i] + [change(args[i])] + args[i + 1:]

    for i, kind in enumerate(arg_types(method)):  # i: index after the selector
        if kind in ("uint64", "address"):
            out += [(f"{kind} {i + 1} short", at(i, lambda a: a[1:])),
                    (f"{kind} {i + 1} long", at(i, lambda a: b"\0" + a))]
            if kind == "uint64":
                out.append((f"uint64 {i + 1} empty", at(i, lambda a: b"")))
        elif kind in ("bool", "account"):
            out += [(f"{kind} {i + 1} empty", at(i, lambda a: b"")),
                    (f"{kind} {i + 1} long", at(i, lambda a: b"\0" + a))]
        elif kind == "string":
            out += [(f"string {i + 1} prefix +1", at(i, lambda a: (int.from_bytes(a[:2], "big") + 1).to_bytes(2, "big") + a[2:])),
                    (f"string {i + 1} prefix -1", at(i, lambda a: (int.from_bytes(a[:2], "big") - 1).to_bytes(2, "big") + a[2:]))]
        else:
            raise AssertionError(kind)
    if len(out):
        out.append(("last argument missing", lambda args: args[:-1]))
    out.append(("one argument extra", lambda args: args + [bytes(8)]))
    return out


def check_arguments(app: BitFox, method: str, call: Callable[..., Any]) -> Any:
    """Each malformed variant of the call is rejected and changes nothing; the
    well-formed call then succeeds (so the rejections are the arguments' fault)."""
    for label, change in malformed(method):
        def tamper(txns: list, change: Any = change) -> None:
            txns[-1].app_args = [txns[-1].app_args[0], *change(list(txns[-1].app_args[1:]))]
        try:
            rejected(app, lambda: call(mutate=tamper), ASSERT)
        except AssertionError as error:
            raise AssertionError(f"{method}: {label}: {error}") from None
    return call()


def test_every_method_takes_exactly_sized_arguments() -> None:
    """v1's btoi accepted 0..8 bytes for a uint64 and ignored extra arguments."""
    fresh = BitFox()

    def deploy(mutate: Any = None) -> Any:
        return fresh.deploy(mutate=(lambda t: mutate(t)) if mutate else None)

    check_arguments(fresh, "create", deploy)
    app = fresh
    p = app.account("provider", 10_000_000)
    r = app.account("renter", 10_000_000)
    inv = app.account("investor", 5_000_000)
    friend = app.account("friend", 5_000_000)
    app.register(p, 1000)
    tested = {"create"}

    def check(method: str, call: Callable[..., Any]) -> Any:
        tested.add(method)
        return check_arguments(app, method, call)

    check("register_listing", lambda **kw: app.register(p, 1000, **kw))
    check("update_price", lambda **kw: app.update_price(p, 1, 900, **kw))
    check("rent", lambda **kw: app.rent(r, 1, 10, **kw))
    check("extend", lambda **kw: app.extend(r, 1, 1, 2, **kw))
    check("stop", lambda **kw: app.stop(r, 1, **kw))
    check("quote", lambda **kw: app.call(r, "quote", [1, 60, 60, 0], **kw))
    check("set_fee", lambda **kw: app.call(app.admin, "set_fee", [300], **kw))
    check("set_treasury", lambda **kw: app.call(app.admin, "set_treasury", [app.treasury.address], **kw))
    check("set_paused", lambda **kw: app.call(app.admin, "set_paused", [False], **kw))
    check("set_admin", lambda **kw: app.call(app.admin, "set_admin", [app.admin.address], **kw))
    check("withdraw_fees", lambda **kw: app.withdraw_fees(r, **kw))
    cid, asset = check("create_cluster", lambda **kw: app.create_cluster(p, 10, 5, url="abc", **kw)).value
    for who in (inv, friend):
        app.opt_in(who, asset)
    check("join_cluster", lambda **kw: app.join(inv, cid, **kw))
    app.join(friend, cid)
    check("buy_shares", lambda **kw: app.buy(inv, cid, 3, **kw))
    check("transfer_shares", lambda **kw: app.transfer(inv, cid, friend.address, 1, **kw))
    app.register(p, 700, cluster_id=cid)
    listing = app.state()["n_listing"]
    app.rent(r, listing, 1)
    app.stop(r, listing, timestamp=app.ledger.now + 60)
    check("claim", lambda **kw: app.claim(inv, cid, **kw))
    check("claim_unsold", lambda **kw: app.claim_unsold(p, cid, **kw))
    check("announce_retirement", lambda **kw: app.announce_retirement(p, listing, **kw))
    check("delist", lambda **kw: app.delist(p, 1, **kw))
    assert tested == set(SIGNATURES)


def test_events_carry_checked_values(bitfox: BitFox) -> None:
    """v1 logged set_fee's raw argument: a 7-byte fee made a FeeChanged event that
    does not decode. Now the argument is exactly 8 bytes and the event is built
    from the stored value."""
    app = bitfox

    def short_fee(txns: list) -> None:
        txns[-1].app_args[1] = (250).to_bytes(7, "big")

    rejected(app, lambda: app.call(app.admin, "set_fee", [250], mutate=short_fee), ASSERT)
    call = app.call(app.admin, "set_fee", [1999])
    assert call.logs == [abi.selector("FeeChanged(uint64)") + (1999).to_bytes(8, "big")]
    assert app.state()["fee_bps"] == 1999


@pytest.mark.parametrize("method", ["register", "update_price"])
def test_price_per_minute_bounds(market: dict[str, Any], method: str) -> None:
    app, p = market["app"], market["provider"]
    act = (lambda price: app.register(p, price)) if method == "register" else (
        lambda price: app.update_price(p, 1, price))
    for price in (0, MAX_AMOUNT + 1, 2**63, 2**64 - 1):
        rejected(app, lambda: act(price), ASSERT)
    act(MAX_AMOUNT)
    listing = app.state()["n_listing"] if method == "register" else 1
    assert app.listing(listing)["price"] == MAX_AMOUNT
    act(1)


def test_create_cluster_amount_bounds(bitfox: BitFox) -> None:
    app = bitfox
    op = app.account("operator", 5_000_000)
    for shares in (0, MAX_AMOUNT + 1, 2**63, 2**64 - 1):
        rejected(app, lambda: app.create_cluster(op, shares, 1), ASSERT)
    for price in (MAX_AMOUNT + 1, 2**63, 2**64 - 1):
        rejected(app, lambda: app.create_cluster(op, 10, price), ASSERT)
    cid, asset = app.create_cluster(op, MAX_AMOUNT, MAX_AMOUNT).value
    assert (app.cluster(cid)["total"], app.cluster(cid)["price_per_share"]) == (MAX_AMOUNT, MAX_AMOUNT)
    assert app.ledger.balance(app.app_address, asset) == MAX_AMOUNT
    # price 0: the operator gives shares away (a payment of 0 per buy)
    cid, asset = app.create_cluster(op, 1, 0).value
    taker = app.account("taker", 1_000_000)
    app.opt_in(taker, asset)
    app.join(taker, cid)
    assert app.buy(taker, cid, 1).event("SharesBought")["paid"] == 0
    assert app.holder(cid, taker.address)["shares"] == 1


def test_treasury_and_admin_are_never_zero_or_the_app(bitfox: BitFox) -> None:
    app = bitfox
    zero = transaction.encoding.encode_address(bytes(32))
    for method in ("set_treasury", "set_admin"):
        for address in (zero, app.app_address):
            rejected(app, lambda: app.call(app.admin, method, [address]), ASSERT)
    app.call(app.admin, "set_treasury", [app.admin.address])
    app.call(app.admin, "set_admin", [app.treasury.address])


def test_create_refuses_zero_or_own_treasury() -> None:
    # app ids are deterministic on a fresh reference ledger: learn the next one
    probe = BitFox()
    probe.deploy()
    own = get_application_address(probe.app_id)
    zero = transaction.encoding.encode_address(bytes(32))
    fresh = BitFox()
    for treasury in (zero, own):
        with pytest.raises(Rejected, match=ASSERT):
            fresh.deploy(treasury=treasury)
    assert fresh.ledger.apps == {}
    fresh.deploy()
    assert fresh.app_address == own  # the refused treasury was the app's own address
