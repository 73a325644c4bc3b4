"""v2: a cluster GPU cannot have its revenue diverted from the share holders.

The attack on v1: the operator sells every share, delists the cluster GPU and lists
it again outside the cluster; the next rental pays the operator directly. In v2 a
cluster GPU leaves its cluster (delist) only when the operator holds every share, or
while its retirement notice is in force: from 30 days after `announce_retirement`, for
7 days (RETIRE_WINDOW). Then the notice lapses (a notice announced before any share was
sold must not let the operator leave without notice months later) and must be announced
again, for a payment of 0 (the box is already paid for). During the notice the GPU stays
rentable and earns for the cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

from bitfox_app import (
    APP_MIN_BALANCE, CLUSTER_DEPOSIT, HOLDER_MBR, LISTING_MBR, MIN_FEE, RETIRE_MBR, RETIRE_NOTICE,
    RETIRE_WINDOW, BitFox, box_mbr, cluster_key, holder_key, listing_key, retire_key,
)
from bitfox_ref import abi
from test_attacks import ASSERT, rejected

SHARES = 100


def test_retirement_constants() -> None:
    assert RETIRE_MBR == box_mbr(9, 8) == 9300
    assert RETIRE_NOTICE == 2_592_000
    assert RETIRE_WINDOW == 604_800
    assert abi.selector("announce_retirement(uint64,pay)uint64").hex() == "6b43be3d"
    assert abi.selector("RetirementAnnounced(uint64,uint64,address,uint64)").hex() == "e8b96baa"


@pytest.fixture
def gpu(bitfox: BitFox) -> dict[str, Any]:
    """A cluster of 100 shares at 10 µAlgo, its GPU (listing 1, 6000 µAlgo/min) and a
    plain GPU of the same operator (listing 2)."""
    operator = bitfox.account("operator", 10_000_000)
    investor = bitfox.account("investor", 10_000_000)
    renter = bitfox.account("renter", 20_000_000)
    cluster_id, asset_id = bitfox.create_cluster(operator, SHARES, 10).value
    bitfox.opt_in(investor, asset_id)
    bitfox.join(investor, cluster_id)
    bitfox.register(operator, 6000, cluster_id=cluster_id)
    bitfox.register(operator, 6000)
    return {"app": bitfox, "operator": operator, "investor": investor, "renter": renter,
            "cluster": cluster_id, "asset": asset_id, "listing": 1}


def test_diversion_attack_is_refused_until_the_notice_ran_out(gpu: dict[str, Any]) -> None:
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    # the operator sells every share, then tries to take the GPU out of the cluster
    app.buy(inv, cid, SHARES)
    assert app.holder(cid, app.app_address)["shares"] == 0
    rejected(app, lambda: app.delist(op, lid), ASSERT)

    # announce: 9300 µAlgo for the retirement box, effective in 30 days
    op_before, app_before = app.ledger.balance(op.address), app.ledger.balance(app.app_address)
    now = app.ledger.now
    call = app.announce_retirement(op, lid)
    effective = now + RETIRE_NOTICE
    assert call.value == effective
    assert call.event("RetirementAnnounced") == {
        "listing_id": lid, "cluster_id": cid, "provider": op.address, "effective": effective,
    }
    assert app.retirement(lid) == effective
    assert app.ledger.box(app.app_id, retire_key(lid)) == effective.to_bytes(8, "big")
    assert app.ledger.balance(op.address) == op_before - RETIRE_MBR - 2 * MIN_FEE
    assert app.ledger.balance(app.app_address) == app_before + RETIRE_MBR

    # before the notice ran out: refused, at once and one second before
    rejected(app, lambda: app.delist(op, lid), ASSERT)
    rejected(app, lambda: app.delist(op, lid, timestamp=effective - 1), ASSERT)

    # at the effective time (in force for RETIRE_WINDOW): delisted, both boxes refunded in one payment
    op_before, app_before = app.ledger.balance(op.address), app.ledger.balance(app.app_address)
    call = app.delist(op, lid, timestamp=effective)
    assert call.event("ListingDelisted") == {
        "listing_id": lid, "provider": op.address, "refund": LISTING_MBR + RETIRE_MBR,
    }
    (payment,) = call.result.txns[0].inner
    assert payment[b"txn"][b"amt"] == LISTING_MBR + RETIRE_MBR == 37_800
    assert app.ledger.balance(op.address) == op_before + 37_800 - 2 * MIN_FEE
    assert app.ledger.balance(app.app_address) == app_before - 37_800
    assert app.listing(lid) is None and app.retirement(lid) is None
    assert app.ledger.box(app.app_id, retire_key(lid)) is None
    # the app keeps exactly its minimum balance: account, share ASA, cluster and holder
    # boxes, the other listing
    assert app.ledger.balance(app.app_address) == (
        APP_MIN_BALANCE + CLUSTER_DEPOSIT + HOLDER_MBR + LISTING_MBR)
    # the operator may list the hardware again, outside the cluster: holders had 30 days
    app.register(op, 6000)


def test_operator_holding_every_share_may_delist_at_once(gpu: dict[str, Any]) -> None:
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    # the operator's own holder record counts too: one share out, one back to the operator
    app.opt_in(op, gpu["asset"])
    app.join(op, cid)
    app.buy(inv, cid, 2)
    app.transfer(inv, cid, op.address, 1)
    rejected(app, lambda: app.delist(op, lid), ASSERT)  # the investor holds one share
    app.transfer(inv, cid, op.address, 1)
    assert (app.holder(cid, app.app_address)["shares"], app.holder(cid, op.address)["shares"]) == (98, 2)
    before = app.ledger.balance(op.address)
    call = app.delist(op, lid)
    assert call.event("ListingDelisted")["refund"] == LISTING_MBR
    assert app.ledger.balance(op.address) == before + LISTING_MBR - 2 * MIN_FEE


def test_nothing_sold_delists_at_once_and_refunds_a_pending_notice(gpu: dict[str, Any]) -> None:
    """No holder record of the operator (absent = 0 shares); a pending announcement is
    cancelled by the delist and its box refunded with the listing's."""
    app, op = gpu["app"], gpu["operator"]
    cid, lid = gpu["cluster"], gpu["listing"]
    assert app.holder(cid, op.address) is None
    app.announce_retirement(op, lid)
    before = app.ledger.balance(op.address)
    call = app.delist(op, lid)
    assert call.event("ListingDelisted")["refund"] == LISTING_MBR + RETIRE_MBR
    assert app.ledger.balance(op.address) == before + LISTING_MBR + RETIRE_MBR - 2 * MIN_FEE
    assert app.retirement(lid) is None and app.listing(lid) is None


def test_announce_checks(gpu: dict[str, Any]) -> None:
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    lid = gpu["listing"]
    rejected(app, lambda: app.announce_retirement(inv, lid), ASSERT)             # not the provider
    rejected(app, lambda: app.announce_retirement(op, 2), ASSERT)                # not in a cluster
    rejected(app, lambda: app.announce_retirement(op, 9), ASSERT)                # no such listing
    rejected(app, lambda: app.announce_retirement(op, lid, pay=RETIRE_MBR - 1), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=RETIRE_MBR + 1), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=0), ASSERT)       # a first notice pays the box
    rejected(app, lambda: app.announce_retirement(op, lid, pay_to=inv.address), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=None), ASSERT)    # no payment
    rejected(app, lambda: app.announce_retirement(op, lid, boxes=[listing_key(lid)]),
             "invalid Box reference")
    first = app.announce_retirement(op, lid).value
    rejected(app, lambda: app.announce_retirement(op, lid), ASSERT)              # twice
    rejected(app, lambda: app.announce_retirement(op, lid, timestamp=first + 1), ASSERT)
    assert app.retirement(lid) == first


def test_gpu_keeps_earning_for_the_cluster_during_and_after_the_notice(gpu: dict[str, Any]) -> None:
    app, op, inv, renter = gpu["app"], gpu["operator"], gpu["investor"], gpu["renter"]
    cid, lid = gpu["cluster"], gpu["listing"]
    app.buy(inv, cid, 40)
    effective = app.announce_retirement(op, lid).value
    op_before = app.ledger.balance(op.address)
    # a rental during the notice: 6000/min for 60 s = 6000, fee 150, the pool gets 5850
    app.rent(renter, lid, 5)
    stop = app.stop(renter, lid, timestamp=app.ledger.now + 60)
    assert stop.value == [6000, 150, 5850, 24_000]
    assert stop.event("ClusterRevenue")["amount"] == 5850
    assert app.ledger.balance(op.address) == op_before  # nothing paid to the operator
    assert app.claim(inv, cid).value == 40 * 5850 // SHARES
    # after the notice ran out, until delisted, it still earns for the cluster
    app.rent(renter, lid, 5, timestamp=effective + 10)
    rejected(app, lambda: app.delist(op, lid, timestamp=effective + 20), ASSERT)  # rented
    stop = app.stop(renter, lid, timestamp=effective + 70)
    assert stop.event("ClusterRevenue")["amount"] == 5850
    assert app.claim(inv, cid).value == 40 * 5850 // SHARES
    app.delist(op, lid, timestamp=effective + 80)
    assert app.listing(lid) is None


def test_cluster_delist_names_its_boxes(gpu: dict[str, Any]) -> None:
    """A cluster listing's delist must name the cluster, both holder records and the
    retirement box; a plain listing still needs only its own box (as in v1)."""
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    full = [listing_key(lid), cluster_key(cid), holder_key(cid, app.app_address),
            holder_key(cid, op.address), retire_key(lid)]
    assert app.delist_boxes(op.address, lid) == full
    for missing in full[1:]:
        boxes = [b for b in full if b != missing]
        rejected(app, lambda: app.delist(op, lid, boxes=boxes), "invalid Box reference")
    assert app.delist_boxes(op.address, 2) == [listing_key(2)]
    app.delist(op, 2)
    # a stranger's holder record in place of the provider's does not help
    app.buy(inv, cid, SHARES)
    boxes = full[:3] + [holder_key(cid, inv.address), retire_key(lid)]
    rejected(app, lambda: app.delist(op, lid, boxes=boxes), "invalid Box reference")
    rejected(app, lambda: app.delist(inv, lid), ASSERT)  # and only the provider delists


# ----- the notice lapses (finding F1 of REVIEW.md) ----------------------------------------
def app_balance_identity(app: BitFox, listings: int, notices: int, holders: int = 1) -> int:
    """README's conservation identity for the fixture (no rental, nothing credited, no fees):
    the app account, the share ASA, the cluster box and the unsold-shares record, the
    other holder records, the listings and the retirement boxes."""
    return (APP_MIN_BALANCE + CLUSTER_DEPOSIT + HOLDER_MBR * holders + LISTING_MBR * listings
            + RETIRE_MBR * notices)


@pytest.mark.parametrize("offset", [0, 1, RETIRE_WINDOW - 1], ids=["effective", "effective+1", "last-second"])
def test_delist_is_accepted_while_the_notice_is_in_force(gpu: dict[str, Any], offset: int) -> None:
    """In force from the effective time up to effective + RETIRE_WINDOW - 1, shares sold."""
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    app.buy(inv, cid, SHARES)
    effective = app.announce_retirement(op, lid).value
    before = app.ledger.balance(op.address)
    call = app.delist(op, lid, timestamp=effective + offset)
    assert call.event("ListingDelisted")["refund"] == LISTING_MBR + RETIRE_MBR
    assert app.ledger.balance(op.address) == before + LISTING_MBR + RETIRE_MBR - 2 * MIN_FEE
    assert app.listing(lid) is None and app.retirement(lid) is None
    assert app.ledger.balance(app.app_address) == app_balance_identity(app, listings=1, notices=0)


@pytest.mark.parametrize("offset", [RETIRE_WINDOW, RETIRE_WINDOW + 1, 365 * 24 * 3600],
                         ids=["effective+window", "one-second-later", "a-year-later"])
def test_delist_is_refused_once_the_notice_lapsed(gpu: dict[str, Any], offset: int) -> None:
    """From effective + RETIRE_WINDOW on, the notice no longer counts: while an investor
    holds a share the GPU stays in its cluster (rule (a) still applies, see below)."""
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    app.buy(inv, cid, 1)
    effective = app.announce_retirement(op, lid).value
    rejected(app, lambda: app.delist(op, lid, timestamp=effective + offset), ASSERT)
    assert app.retirement(lid) == effective  # the lapsed notice stays, its box still held
    assert app.ledger.balance(app.app_address) == app_balance_identity(app, listings=2, notices=1)


def test_stale_notice_cannot_be_pre_armed(gpu: dict[str, Any]) -> None:
    """F1: announced on day 0, before selling a share; a year later an investor buys and
    the operator tries to leave the next second: refused."""
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    t0 = app.ledger.now
    app.announce_retirement(op, lid, timestamp=t0)
    year = t0 + 365 * 24 * 3600
    app.buy(inv, cid, 90, timestamp=year)
    rejected(app, lambda: app.delist(op, lid, timestamp=year + 1), ASSERT)
    # leaving now takes a fresh notice: 30 days for the new holder to see it coming
    effective = app.announce_retirement(op, lid, pay=0, timestamp=year + 2).value
    assert effective == year + 2 + RETIRE_NOTICE
    rejected(app, lambda: app.delist(op, lid, timestamp=effective - 1), ASSERT)
    app.delist(op, lid, timestamp=effective)
    assert app.listing(lid) is None and app.retirement(lid) is None


def test_reannounce_is_refused_while_the_notice_is_pending_or_in_force(gpu: dict[str, Any]) -> None:
    """Neither a pending notice nor one in force can be replaced (nor pushed back or
    brought forward), with a payment of 0 or of the box's minimum balance."""
    app, op = gpu["app"], gpu["operator"]
    lid = gpu["listing"]
    t0 = app.ledger.now
    effective = app.announce_retirement(op, lid, timestamp=t0).value
    for when in (t0, t0 + 1, effective - 1, effective, effective + RETIRE_WINDOW - 1):
        for pay in (0, RETIRE_MBR):
            rejected(app, lambda pay=pay, when=when: app.announce_retirement(op, lid, pay=pay, timestamp=when),
                     ASSERT)
    assert app.retirement(lid) == effective


def test_lapsed_notice_is_replaced_for_a_payment_of_zero(gpu: dict[str, Any]) -> None:
    """After the window a new notice replaces the old one in the same box: the payment
    is exactly 0 (the box's 9300 is already held), so the app's balance identity stays
    exact; the new notice runs 30 days and is in force for 7, like the first."""
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    app.buy(inv, cid, 10)
    first = app.announce_retirement(op, lid).value
    lapsed = first + RETIRE_WINDOW
    rejected(app, lambda: app.announce_retirement(op, lid, pay=RETIRE_MBR, timestamp=lapsed), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=1, timestamp=lapsed), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=None, timestamp=lapsed), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=0, pay_to=inv.address, timestamp=lapsed), ASSERT)
    rejected(app, lambda: app.announce_retirement(inv, lid, pay=0, timestamp=lapsed), ASSERT)

    op_before, app_before = app.ledger.balance(op.address), app.ledger.balance(app.app_address)
    assert app_before == app_balance_identity(app, listings=2, notices=1)
    call = app.announce_retirement(op, lid, pay=0, timestamp=lapsed)
    second = lapsed + RETIRE_NOTICE
    assert call.value == second
    assert call.event("RetirementAnnounced") == {
        "listing_id": lid, "cluster_id": cid, "provider": op.address, "effective": second,
    }
    assert app.retirement(lid) == second
    assert app.ledger.box(app.app_id, retire_key(lid)) == second.to_bytes(8, "big")
    assert app.ledger.balance(op.address) == op_before - 2 * MIN_FEE   # the payment of 0 and the call
    assert app.ledger.balance(app.app_address) == app_before == app_balance_identity(app, listings=2, notices=1)

    # the new notice: pending, so neither a delist nor another announcement
    rejected(app, lambda: app.delist(op, lid, timestamp=second - 1), ASSERT)
    rejected(app, lambda: app.announce_retirement(op, lid, pay=0, timestamp=second - 1), ASSERT)
    # in force: delisted, both boxes refunded once (9300 was paid once)
    op_before = app.ledger.balance(op.address)
    call = app.delist(op, lid, timestamp=second + RETIRE_WINDOW - 1)
    assert call.event("ListingDelisted")["refund"] == LISTING_MBR + RETIRE_MBR
    assert app.ledger.balance(op.address) == op_before + LISTING_MBR + RETIRE_MBR - 2 * MIN_FEE
    assert app.ledger.balance(app.app_address) == app_balance_identity(app, listings=1, notices=0)


def test_lapsed_notice_is_refunded_by_a_delist_under_rule_a(gpu: dict[str, Any]) -> None:
    """A lapsed notice falls through to rule (a): once the operator holds every share
    again the GPU leaves at once, and the retirement box goes with it (9300 + 28 500)."""
    app, op, inv = gpu["app"], gpu["operator"], gpu["investor"]
    cid, lid = gpu["cluster"], gpu["listing"]
    app.opt_in(op, gpu["asset"])
    app.join(op, cid)
    app.buy(inv, cid, 3)
    effective = app.announce_retirement(op, lid).value
    lapsed = effective + RETIRE_WINDOW
    rejected(app, lambda: app.delist(op, lid, timestamp=lapsed), ASSERT)
    app.transfer(inv, cid, op.address, 3, timestamp=lapsed + 1)    # the investor hands them back
    before = app.ledger.balance(op.address)
    call = app.delist(op, lid, timestamp=lapsed + 2)
    assert call.event("ListingDelisted")["refund"] == LISTING_MBR + RETIRE_MBR
    assert app.ledger.balance(op.address) == before + LISTING_MBR + RETIRE_MBR - 2 * MIN_FEE
    assert app.retirement(lid) is None and app.listing(lid) is None
    assert app.ledger.balance(app.app_address) == app_balance_identity(app, listings=1, notices=0, holders=2)
