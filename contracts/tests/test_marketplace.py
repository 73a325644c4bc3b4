"""Success paths of the marketplace methods, checked to the microAlgo."""

from __future__ import annotations

from algosdk import encoding

from bitfox_app import (
    APP_MIN_BALANCE, LISTING_MBR, MIN_FEE, RENTAL_MBR, BitFox, box_mbr, listing_key, rental_key,
)


def raw(address: str) -> bytes:
    return encoding.decode_address(address)


def test_mbr_constants_match_box_sizes() -> None:
    assert LISTING_MBR == box_mbr(9, 56) <= 50_000
    assert RENTAL_MBR == box_mbr(9, 80) <= 50_000


def test_create_sets_state_and_emits(bitfox: BitFox) -> None:
    state = bitfox.state()
    assert state == {
        "admin": raw(bitfox.admin.address), "treasury": raw(bitfox.treasury.address),
        "fee_bps": 250, "paused": 0, "fees_owed": 0,
        "n_listing": 0, "n_rental": 0, "n_cluster": 0,
    }
    assert bitfox.ledger.balance(bitfox.app_address) == APP_MIN_BALANCE
    assert bitfox.ledger.box_keys(bitfox.app_id) == []


def test_create_event() -> None:
    app = BitFox()
    call = app.deploy(fee_bps=2000)
    assert call.event("Initialized") == {
        "admin": app.admin.address, "treasury": app.treasury.address, "fee_bps": 2000,
    }


def test_register_update_delist(bitfox: BitFox) -> None:
    provider = bitfox.account("provider", 1_000_000)
    call = bitfox.register(provider, 1200)
    assert call.value == 1
    assert call.event("ListingRegistered") == {
        "listing_id": 1, "provider": provider.address, "price_per_minute": 1200, "cluster_id": 0,
    }
    assert bitfox.listing(1) == {"provider": provider.address, "price": 1200, "cluster_id": 0, "rental_id": 0}
    assert bitfox.ledger.box(bitfox.app_id, listing_key(1)) == raw(provider.address) + (1200).to_bytes(8, "big") + bytes(16)
    assert bitfox.ledger.balance(provider.address) == 1_000_000 - LISTING_MBR - 2 * MIN_FEE
    assert bitfox.ledger.balance(bitfox.app_address) == APP_MIN_BALANCE + LISTING_MBR
    assert bitfox.state()["n_listing"] == 1

    second = bitfox.register(provider, 50)
    assert second.value == 2

    call = bitfox.update_price(provider, 1, 900)
    assert call.event("ListingPriceUpdated") == {"listing_id": 1, "price_per_minute": 900}
    assert bitfox.listing(1)["price"] == 900
    before = bitfox.ledger.balance(provider.address)

    call = bitfox.delist(provider, 1)
    assert call.event("ListingDelisted") == {"listing_id": 1, "provider": provider.address, "refund": LISTING_MBR}
    assert bitfox.listing(1) is None
    assert bitfox.listing(2) is not None
    assert bitfox.ledger.balance(provider.address) == before + LISTING_MBR - 2 * MIN_FEE
    assert bitfox.ledger.balance(bitfox.app_address) == APP_MIN_BALANCE + LISTING_MBR


def test_rent_extend_stop_by_renter(bitfox: BitFox) -> None:
    ledger = bitfox.ledger
    provider = bitfox.account("provider", 1_000_000)
    renter = bitfox.account("renter", 10_000_000)
    bitfox.register(provider, 1000)
    provider_start = ledger.balance(provider.address)
    t0 = ledger.now

    call = bitfox.rent(renter, 1, 10)
    assert call.value == 1
    assert call.event("RentalStarted") == {
        "rental_id": 1, "listing_id": 1, "renter": renter.address, "provider": provider.address,
        "price_per_minute": 1000, "deposit": 10_000, "start": t0, "max_end": t0 + 600,
        "fee_bps": 250, "cluster_id": 0,
    }
    assert bitfox.rental(1) == {
        "rental_id": 1, "renter": renter.address, "start": t0, "max_end": t0 + 600,
        "deposit": 10_000, "price": 1000, "fee_bps": 250,
    }
    assert bitfox.listing(1)["rental_id"] == 1
    assert ledger.balance(renter.address) == 10_000_000 - 10_000 - RENTAL_MBR - 2 * MIN_FEE
    assert ledger.balance(bitfox.app_address) == APP_MIN_BALANCE + LISTING_MBR + 10_000 + RENTAL_MBR

    call = bitfox.extend(renter, 1, 1, 5, timestamp=t0 + 300)
    assert call.event("RentalExtended") == {
        "rental_id": 1, "listing_id": 1, "added": 5000, "deposit": 15_000, "max_end": t0 + 900,
    }
    assert bitfox.rental(1)["deposit"] == 15_000

    call = bitfox.stop(renter, 1, 1, timestamp=t0 + 125)  # timestamps need not grow in the jig
    cost, fee = 2084, 52  # ceil(1000 * 125 / 60), floor(2084 * 250 / 10000)
    assert call.value == [cost, fee, cost - fee, 15_000 - cost]
    assert call.event("RentalSettled") == {
        "rental_id": 1, "listing_id": 1, "renter": renter.address, "provider": provider.address,
        "settled_by": renter.address, "end": t0 + 125, "elapsed": 125, "cost": cost, "fee": fee,
        "provider_amount": cost - fee, "refund": 15_000 - cost, "cluster_id": 0,
    }
    assert bitfox.rental(1) is None
    assert ledger.box(bitfox.app_id, rental_key(1)) is None
    assert bitfox.listing(1)["rental_id"] == 0
    assert ledger.balance(provider.address) == provider_start + cost - fee
    assert ledger.balance(renter.address) == 10_000_000 - cost - 2 * MIN_FEE - 2 * MIN_FEE - 3 * MIN_FEE
    assert bitfox.state()["fees_owed"] == fee
    assert ledger.balance(bitfox.app_address) == APP_MIN_BALANCE + LISTING_MBR + fee

    # The listing is available again; the next rental gets the next id.
    again = bitfox.rent(renter, 1, 1)
    assert again.value == 2


def test_stop_by_provider_and_admin(bitfox: BitFox) -> None:
    provider = bitfox.account("provider", 1_000_000)
    renter = bitfox.account("renter", 10_000_000)
    bitfox.register(provider, 600)
    t0 = bitfox.ledger.now
    bitfox.rent(renter, 1, 3)
    call = bitfox.stop(provider, 1, timestamp=t0 + 61)
    assert call.value == [610, 15, 595, 1190]  # ceil(600*61/60) = 610
    assert call.event("RentalSettled")["settled_by"] == provider.address
    bitfox.rent(renter, 1, 3, timestamp=t0 + 100)
    call = bitfox.stop(bitfox.admin, 1, timestamp=t0 + 100)
    assert call.value == [0, 0, 0, 1800]
    assert call.event("RentalSettled")["settled_by"] == bitfox.admin.address


def test_anyone_settles_an_expired_rental_capped_at_deposit(bitfox: BitFox) -> None:
    provider = bitfox.account("provider", 1_000_000)
    renter = bitfox.account("renter", 10_000_000)
    stranger = bitfox.account("stranger", 1_000_000)
    bitfox.register(provider, 1000)
    t0 = bitfox.ledger.now
    bitfox.rent(renter, 1, 2)
    renter_before = bitfox.ledger.balance(renter.address)
    call = bitfox.stop(stranger, 1, timestamp=t0 + 10_000)
    assert call.value == [2000, 50, 1950, 0]
    event = call.event("RentalSettled")
    assert event["end"] == t0 + 120 and event["elapsed"] == 120
    assert event["settled_by"] == stranger.address
    # the renter still gets the rental box MBR back
    assert bitfox.ledger.balance(renter.address) == renter_before + RENTAL_MBR
    assert bitfox.ledger.balance(stranger.address) == 1_000_000 - 3 * MIN_FEE


def test_fee_is_snapshotted_at_rent_and_swept_to_treasury(bitfox: BitFox) -> None:
    provider = bitfox.account("provider", 1_000_000)
    renter = bitfox.account("renter", 10_000_000)
    bitfox.register(provider, 6000)
    t0 = bitfox.ledger.now
    bitfox.rent(renter, 1, 10)
    call = bitfox.call(bitfox.admin, "set_fee", [2000])
    assert call.event("FeeChanged") == {"fee_bps": 2000}
    stop = bitfox.stop(renter, 1, timestamp=t0 + 60)
    assert stop.value == [6000, 150, 5850, 54_000]  # still 250 bps
    bitfox.rent(renter, 1, 1, timestamp=t0 + 60)
    stop = bitfox.stop(renter, 1, timestamp=t0 + 120)
    assert stop.value == [6000, 1200, 4800, 0]  # 2000 bps
    assert bitfox.state()["fees_owed"] == 1350

    treasury_before = bitfox.ledger.balance(bitfox.treasury.address)
    sweeper = bitfox.account("sweeper", 1_000_000)
    call = bitfox.withdraw_fees(sweeper)
    assert call.value == 1350
    assert call.event("FeesWithdrawn") == {"treasury": bitfox.treasury.address, "amount": 1350}
    assert bitfox.ledger.balance(bitfox.treasury.address) == treasury_before + 1350
    assert bitfox.state()["fees_owed"] == 0
    assert bitfox.ledger.balance(bitfox.app_address) == APP_MIN_BALANCE + LISTING_MBR
    # nothing left: a second sweep pays nothing and sends no payment
    call = bitfox.withdraw_fees(sweeper)
    assert call.value == 0 and call.result.txns[0].inner == []


def test_admin_methods(bitfox: BitFox) -> None:
    new_treasury = bitfox.account("treasury2", 200_000)
    call = bitfox.call(bitfox.admin, "set_treasury", [new_treasury.address])
    assert call.event("TreasuryChanged") == {"treasury": new_treasury.address}
    assert bitfox.state()["treasury"] == raw(new_treasury.address)

    call = bitfox.call(bitfox.admin, "set_paused", [True])
    assert call.event("PauseChanged") == {"paused": True}
    assert bitfox.state()["paused"] == 1
    call = bitfox.call(bitfox.admin, "set_paused", [False])
    assert call.event("PauseChanged") == {"paused": False}
    assert bitfox.state()["paused"] == 0

    new_admin = bitfox.account("admin2", 1_000_000)
    call = bitfox.call(bitfox.admin, "set_admin", [new_admin.address])
    assert call.event("AdminChanged") == {"admin": new_admin.address}
    assert bitfox.state()["admin"] == raw(new_admin.address)
    bitfox.call(new_admin, "set_fee", [0])
    assert bitfox.state()["fee_bps"] == 0


def test_quote_matches_stop_arithmetic(bitfox: BitFox) -> None:
    caller = bitfox.account("caller", 1_000_000)
    assert bitfox.quote(caller, 1000, 10_000, 125, 250).value == [2084, 52, 2032, 7916]
    assert bitfox.quote(caller, 2**64 - 1, 2**64 - 1, 2**32, 2000).value == [
        2**64 - 1, (2**64 - 1) * 2000 // 10_000, 2**64 - 1 - (2**64 - 1) * 2000 // 10_000, 0,
    ]


def test_settling_a_rental_started_while_unpaused_works_when_paused(bitfox: BitFox) -> None:
    provider = bitfox.account("provider", 1_000_000)
    renter = bitfox.account("renter", 10_000_000)
    bitfox.register(provider, 60)
    bitfox.rent(renter, 1, 10)
    bitfox.call(bitfox.admin, "set_paused", [True])
    t = bitfox.ledger.now
    bitfox.extend(renter, 1, 1, 1, timestamp=t + 1)
    call = bitfox.stop(renter, 1, timestamp=t + 30)
    assert call.value[0] == 30


def test_elapsed_saturates_at_zero(bitfox: BitFox) -> None:
    """A real chain's timestamps never go backwards; the reference lets us check
    that the contract then bills nothing, like the Rust domain code."""
    provider = bitfox.account("provider", 1_000_000)
    renter = bitfox.account("renter", 10_000_000)
    bitfox.register(provider, 1000)
    t0 = bitfox.ledger.now
    bitfox.rent(renter, 1, 1)
    call = bitfox.stop(renter, 1, timestamp=t0 - 30)
    assert call.value == [0, 0, 0, 1000]
    assert call.event("RentalSettled")["elapsed"] == 0
