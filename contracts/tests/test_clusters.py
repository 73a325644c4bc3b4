"""Cluster shares: ASA creation, buy, transfer, revenue accumulator and claims."""

from __future__ import annotations

from typing import Any

import pytest
from algosdk import encoding, transaction

from bitfox_app import (
    APP_MIN_BALANCE, ASSET_MIN_BALANCE, CLUSTER_DEPOSIT, HOLDER_MBR, LISTING_MBR, MIN_FEE, SCALE,
    BitFox, box_mbr, cluster_key, holder_key,
)
from bitfox_app import EVENTS
from bitfox_ref import abi
from bitfox_ref.jig import sign_group, suggested_params
from test_attacks import ASSERT, rejected

URL = "https://bitfox.example/clusters/1.json"


def test_deposit_constants() -> None:
    assert HOLDER_MBR == box_mbr(41, 40) <= 50_000
    assert CLUSTER_DEPOSIT == ASSET_MIN_BALANCE + box_mbr(9, 80) + HOLDER_MBR


@pytest.fixture
def cluster(bitfox: BitFox) -> dict[str, Any]:
    operator = bitfox.account("operator", 5_000_000)
    investor = bitfox.account("investor", 5_000_000)
    friend = bitfox.account("friend", 5_000_000)
    renter = bitfox.account("renter", 50_000_000)
    call = bitfox.create_cluster(operator, 1000, 250, url=URL)
    cluster_id, asset_id = call.value
    for who in (investor, friend):
        bitfox.opt_in(who, asset_id)
        bitfox.join(who, cluster_id)
    bitfox.register(operator, 6000, cluster_id=cluster_id)
    return {"app": bitfox, "operator": operator, "investor": investor, "friend": friend,
            "renter": renter, "id": cluster_id, "asset": asset_id, "create": call}


def earn(c: dict[str, Any], seconds: int) -> int:
    """Rent the cluster's GPU and stop after `seconds`; returns the pool credit."""
    app = c["app"]
    listing_id = 1
    app.rent(c["renter"], listing_id, 60)
    stop = app.stop(c["renter"], listing_id, timestamp=app.ledger.now + seconds)
    return stop.value[2]


def test_create_cluster(bitfox: BitFox) -> None:
    operator = bitfox.account("operator", 5_000_000)
    call = bitfox.create_cluster(operator, 1000, 250, url=URL)
    cluster_id, asset_id = call.value
    assert cluster_id == 1 and asset_id > bitfox.app_id
    assert call.event("ClusterCreated") == {
        "cluster_id": 1, "asset_id": asset_id, "operator": operator.address,
        "total_shares": 1000, "price_per_share": 250, "url": URL,
    }
    params = bitfox.ledger.asset_params(asset_id)
    app_raw = encoding.decode_address(bitfox.app_address)
    assert params["creator"] == bitfox.app_address
    assert (params["total"], params["decimals"], params["default_frozen"]) == (1000, 0, True)
    assert params["url"] == URL.encode() and params["unit_name"] == b"BFXS"
    assert all(params[r] == app_raw for r in ("manager", "reserve", "freeze", "clawback"))
    assert bitfox.ledger.balance(bitfox.app_address, asset_id) == 1000
    assert bitfox.cluster(1) == {"operator": operator.address, "asset_id": asset_id, "total": 1000,
                                 "price_per_share": 250, "acc": 0, "rem": 0}
    assert bitfox.holder(1, bitfox.app_address) == {"shares": 1000, "ckpt": 0, "dust": 0, "owed": 0}
    assert bitfox.ledger.balance(operator.address) == 5_000_000 - CLUSTER_DEPOSIT - 3 * MIN_FEE
    # the deposit covers exactly the app's new minimum balance (asset + two boxes)
    assert bitfox.ledger.balance(bitfox.app_address) == APP_MIN_BALANCE + CLUSTER_DEPOSIT


def test_create_cluster_failures(bitfox: BitFox) -> None:
    operator = bitfox.account("operator", 5_000_000)
    rejected(bitfox, lambda: bitfox.create_cluster(operator, 1000, 1, pay=CLUSTER_DEPOSIT - 1), ASSERT)
    rejected(bitfox, lambda: bitfox.create_cluster(operator, 0, 1), ASSERT)
    rejected(bitfox, lambda: bitfox.create_cluster(operator, 10, 1, url="x" * 97), ASSERT)
    rejected(bitfox, lambda: bitfox.create_cluster(operator, 10, 1, fee=MIN_FEE), "fee too small")
    bitfox.create_cluster(operator, 10, 1, url="x" * 96)


def url_bytes(url: bytes) -> Any:
    """mutate: the create_cluster call carries `url` as raw bytes (any byte values)."""
    def tamper(txns: list) -> None:
        txns[-1].app_args[3] = len(url).to_bytes(2, "big") + url
    return tamper


def test_create_cluster_url_must_be_printable_ascii(bitfox: BitFox) -> None:
    """v2: every URL byte is 0x20..0x7e, so ClusterCreated's string is valid UTF-8 and
    has no control characters. The check works on two 48-byte halves: a bad byte is
    caught at either end of either half."""
    app = bitfox
    operator = app.account("operator", 10_000_000)
    bad = [b"\xff\xfe", "é".encode(), "https://bitfox.example/\u2603".encode(), b"\x80", b"\xff",
           b"\x00", b"\x1f", b"\x7f", b"a\nb", b"\t", b"x\x00"]
    for position in (0, 47, 48, 95):
        for byte in (b"\x1f", b"\x7f", b"\x80"):
            url = bytearray(b"~" * 96)
            url[position:position + 1] = byte
            bad.append(bytes(url))
    bad += [b"a" * 48 + b"\x19", b" " * 47 + b"\xc3"]
    for url in bad:
        rejected(app, lambda: app.create_cluster(operator, 10, 1, mutate=url_bytes(url)), ASSERT)
    good = [b"", b" ", b"~", b" ~" * 48, b"~" * 96, b"\x20" * 48 + b"\x7e" * 48, b"a" * 47, b"b" * 49,
            bytes(range(0x20, 0x7f))[:96]]
    for url in good:
        call = app.create_cluster(operator, 10, 1, mutate=url_bytes(url))
        assert call.event("ClusterCreated")["url"] == url.decode("ascii")
        assert app.ledger.asset_params(call.value[1])["url"] == url


def test_join_event_and_record(bitfox: BitFox) -> None:
    operator = bitfox.account("operator", 5_000_000)
    holder = bitfox.account("holder", 1_000_000)
    cluster_id, _ = bitfox.create_cluster(operator, 10, 1).value
    before = bitfox.ledger.balance(bitfox.app_address)
    call = bitfox.join(holder, cluster_id)
    assert call.event("ClusterJoined") == {"cluster_id": cluster_id, "holder": holder.address}
    assert bitfox.holder(cluster_id, holder.address) == {"shares": 0, "ckpt": 0, "dust": 0, "owed": 0}
    assert bitfox.ledger.balance(bitfox.app_address) == before + HOLDER_MBR
    assert bitfox.ledger.balance(holder.address) == 1_000_000 - HOLDER_MBR - 2 * MIN_FEE


def test_join_buy_and_revenue(cluster: dict[str, Any]) -> None:
    app, investor, operator = cluster["app"], cluster["investor"], cluster["operator"]
    cid, asset = cluster["id"], cluster["asset"]
    assert app.holder(cid, investor.address) == {"shares": 0, "ckpt": 0, "dust": 0, "owed": 0}
    assert app.ledger.frozen(investor.address, asset)

    op_before = app.ledger.balance(operator.address)
    inv_before = app.ledger.balance(investor.address)
    call = app.buy(investor, cid, 300)
    assert call.event("SharesBought") == {"cluster_id": cid, "buyer": investor.address, "count": 300, "paid": 75_000}
    assert app.ledger.balance(operator.address) == op_before + 75_000
    assert app.ledger.balance(investor.address) == inv_before - 75_000 - 3 * MIN_FEE
    assert app.ledger.balance(investor.address, asset) == 300
    assert app.ledger.balance(app.app_address, asset) == 700
    assert app.holder(cid, investor.address)["shares"] == 300
    assert app.holder(cid, app.app_address)["shares"] == 700

    # revenue: 6000/min for 100 s = 10000, fee 250 bps = 250, pool gets 9750
    app_before = app.ledger.balance(app.app_address)
    rental_id = app.state()["n_rental"] + 1
    credit = earn(cluster, 100)
    assert credit == 9750
    stop = app.ledger.last.txns[0]
    events = abi.decode_events(stop.logs, EVENTS)
    assert [e.name for e in events] == ["ClusterRevenue", "RentalSettled"]
    assert events[0].values == {"cluster_id": cid, "rental_id": rental_id, "amount": 9750,
                                "acc": 9750 * SCALE // 1000}
    assert events[1].values["provider_amount"] == 9750 and events[1].values["cluster_id"] == cid
    c = app.cluster(cid)
    assert c["acc"] == 9750 * SCALE // 1000 and c["rem"] == 0
    # no provider payment: the revenue and the fee stay in the app
    assert len(stop.inner) == 1
    assert app.ledger.balance(app.app_address) == app_before + 10_000

    call = app.claim(investor, cid)
    assert call.value == 2925  # 300 * 9.75
    assert call.event("RevenueClaimed") == {"cluster_id": cid, "holder": investor.address,
                                            "paid_to": investor.address, "amount": 2925}
    call = app.claim_unsold(operator, cid)
    assert call.value == 6825
    assert call.event("RevenueClaimed")["holder"] == app.app_address
    assert call.event("RevenueClaimed")["paid_to"] == operator.address
    # everything distributed; a second claim pays nothing (and sends nothing)
    again = app.claim(investor, cid)
    assert again.value == 0 and again.result.txns[0].inner == []
    assert app.ledger.balance(app.app_address) == app_before + 250  # only the platform fee is left


def test_transfer_settles_both_sides_first(cluster: dict[str, Any]) -> None:
    app, investor, friend = cluster["app"], cluster["investor"], cluster["friend"]
    cid, asset = cluster["id"], cluster["asset"]
    app.buy(investor, cid, 400)
    earn(cluster, 60)  # cost 6000, fee 150, pool 5850: 5.85 per share
    call = app.transfer(investor, cid, friend.address, 150)
    assert call.event("SharesTransferred") == {"cluster_id": cid, "from": investor.address,
                                               "to": friend.address, "count": 150}
    assert app.ledger.balance(investor.address, asset) == 250
    assert app.ledger.balance(friend.address, asset) == 150
    assert app.ledger.frozen(friend.address, asset)
    inv = app.holder(cid, investor.address)
    assert (inv["shares"], inv["owed"]) == (250, 2340)  # 400 * 5.85 earned before the move
    assert app.holder(cid, friend.address)["owed"] == 0
    earn(cluster, 60)
    assert app.claim(investor, cid).value == 2340 + 1462  # + 250 * 5.85 = 1462.5 -> 1462
    assert app.claim(friend, cid).value == 877            # 150 * 5.85 = 877.5 -> 877
    assert app.holder(cid, investor.address)["dust"] == SCALE // 2
    # the two half microAlgos add up to one whole on the next credit
    earn(cluster, 60)
    assert app.claim(investor, cid).value == 1463


def test_cluster_failures(cluster: dict[str, Any]) -> None:
    app, investor, friend, operator = cluster["app"], cluster["investor"], cluster["friend"], cluster["operator"]
    cid, asset = cluster["id"], cluster["asset"]
    stranger = app.account("stranger", 5_000_000)
    app.opt_in(stranger, asset)
    rejected(app, lambda: app.buy(stranger, cid, 1), ASSERT)        # not joined
    rejected(app, lambda: app.join(investor, cid), ASSERT)          # joined twice
    rejected(app, lambda: app.join(stranger, cid, pay=HOLDER_MBR - 1), ASSERT)
    rejected(app, lambda: app.buy(investor, cid, 1001, pay=1001 * 250), "- would result negative")
    rejected(app, lambda: app.buy(investor, cid, 10, pay=10 * 250 - 1), ASSERT)
    rejected(app, lambda: app.buy(investor, cid, 10, pay_to=app.app_address), ASSERT)
    rejected(app, lambda: app.buy(investor, cid, 0, pay=0), ASSERT)
    app.buy(investor, cid, 10)
    rejected(app, lambda: app.transfer(investor, cid, friend.address, 11), "- would result negative")
    rejected(app, lambda: app.transfer(investor, cid, investor.address, 1), ASSERT)
    rejected(app, lambda: app.transfer(investor, cid, app.app_address, 1), ASSERT)
    rejected(app, lambda: app.transfer(investor, cid, stranger.address, 1), ASSERT)  # not joined
    rejected(app, lambda: app.transfer(investor, cid, friend.address, 0), ASSERT)
    rejected(app, lambda: app.claim_unsold(investor, cid), ASSERT)
    rejected(app, lambda: app.claim(stranger, cid), ASSERT)
    rejected(app, lambda: app.call(investor, "claim", [99]), "invalid Box reference")

    # the holdings are frozen: a direct transfer outside the app is refused
    direct = transaction.AssetTransferTxn(investor.address, suggested_params(), friend.address, 1, asset)
    rejected(app, lambda: app.ledger.eval(sign_group([direct], {investor.address: investor.private_key})), "frozen")
    # and nobody but the app can claw back
    claw = transaction.AssetTransferTxn(operator.address, suggested_params(), operator.address, 1, asset,
                                        revocation_target=investor.address)
    rejected(app, lambda: app.ledger.eval(sign_group([claw], {operator.address: operator.private_key})), "clawback not allowed")


def test_cluster_listing_pays_pool_not_provider(cluster: dict[str, Any]) -> None:
    app, operator = cluster["app"], cluster["operator"]
    before = app.ledger.balance(operator.address)
    earn(cluster, 30)
    assert app.ledger.balance(operator.address) == before
    assert app.listing(1)["cluster_id"] == cluster["id"]
    assert app.ledger.box(app.app_id, cluster_key(cluster["id"])) is not None
    assert app.ledger.box(app.app_id, holder_key(cluster["id"], app.app_address)) is not None
    assert LISTING_MBR > 0


def test_asset_close_to_cannot_move_frozen_shares(cluster: dict[str, Any]) -> None:
    app, investor, friend = cluster["app"], cluster["investor"], cluster["friend"]
    cid, asset = cluster["id"], cluster["asset"]
    app.buy(investor, cid, 5)
    close = transaction.AssetTransferTxn(
        investor.address, suggested_params(), friend.address, 0, asset, close_assets_to=friend.address
    )
    rejected(app, lambda: app.ledger.eval(sign_group([close], {investor.address: investor.private_key})), "frozen")
    # An AVM rule that freezing cannot override: a frozen holder may always close
    # its holding out to the asset's creator (the app). The app's holder records
    # stay authoritative, so revenue accounting is unaffected (see README).
    to_creator = transaction.AssetTransferTxn(
        investor.address, suggested_params(), app.app_address, 0, asset, close_assets_to=app.app_address
    )
    app.ledger.eval(sign_group([to_creator], {investor.address: investor.private_key}))
    assert not app.ledger.holds(investor.address, asset)
    assert app.ledger.balance(app.app_address, asset) == 1000  # 995 unsold + 5 given back
    assert app.holder(cid, investor.address)["shares"] == 5
    assert app.holder(cid, app.app_address)["shares"] == 995
    assert earn(cluster, 60) == 5850
    assert app.claim(investor, cid).value == 29  # 5 * 5.85 = 29.25
