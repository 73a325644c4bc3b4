"""A seeded random sequence of >= 200 operations with invariants checked throughout.

Operations: register, update price, delist, rent, extend, stop (renter,
provider, admin), expire (a stranger settles after max_end), buy, transfer,
claim, claim unsold, withdraw fees, set fee, announce a cluster GPU's retirement
(or replace a lapsed notice, for a payment of 0; refused while one is pending or in
force) and retire it (delist while the notice is in force: from 30 days after it was
announced, for 7 days; the clock jumps into the window or past it, where the lapsed
notice is refused and announced again); with random time steps. A cluster GPU is
delisted at once only while its operator holds every share (v2).

Invariants:
* conservation: the sum of every balance plus the fees paid never changes;
* the app holds exactly its minimum balance (account, share ASAs, boxes) plus
  what it still owes: active deposits, accrued platform fees, unclaimed pool
  revenue;
* every settlement equals the billing formula; every holder's claims equal its
  exact pro-rata entitlement (computed with fractions) within the documented
  bound, and the holders together never receive more than came in;
* the share ASA balances mirror the holder records.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from bitfox_app import (
    APP_MIN_BALANCE, CLUSTER_DEPOSIT, HOLDER_MBR, LISTING_MBR, RENTAL_MBR, RETIRE_MBR,
    RETIRE_NOTICE, RETIRE_WINDOW, SCALE, BitFox,
)
from bitfox_ref import Rejected
from bitfox_ref.accounts import Account
from test_billing_table import settle

SEED = 20261125
OPERATIONS = 220
DAY = 24 * 3600


@dataclass
class Pool:
    cluster_id: int
    asset_id: int
    operator: Account
    total: int
    shares: dict[str, int] = field(default_factory=dict)       # record address -> shares
    exact: dict[str, Fraction] = field(default_factory=dict)   # exact entitlement
    paid: dict[str, int] = field(default_factory=dict)         # claimed so far
    changes: dict[str, int] = field(default_factory=dict)      # share-count changes
    credited: int = 0

    def credit(self, amount: int) -> None:
        self.credited += amount
        for holder, count in self.shares.items():
            self.exact[holder] = self.exact.get(holder, Fraction(0)) + Fraction(amount * count, self.total)

    def move(self, source: str, target: str, count: int) -> None:
        self.shares[source] -= count
        self.shares[target] = self.shares.get(target, 0) + count
        for who in (source, target):
            self.changes[who] = self.changes.get(who, 0) + 1


class Run:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.app = BitFox()
        self.app.deploy(fee_bps=250)
        app = self.app
        self.providers = [app.account(f"provider-{i}", 20_000_000) for i in range(3)]
        self.renters = [app.account(f"renter-{i}", 30_000_000) for i in range(4)]
        self.investors = [app.account(f"investor-{i}", 20_000_000) for i in range(3)]
        self.stranger = app.account("stranger", 10_000_000)
        self.pools: list[Pool] = []
        self.counts: dict[str, int] = {}
        self.initial_total = self.total_money()

    # ----- bookkeeping -------------------------------------------------------
    def everyone(self) -> list[str]:
        app = self.app
        people = self.providers + self.renters + self.investors + [self.stranger, app.admin, app.treasury]
        return [a.address for a in people] + [app.app_address]

    def total_money(self) -> int:
        return sum(self.app.ledger.balance(a) for a in self.everyone()) + self.app.fees_paid

    def listings(self) -> list[int]:
        return [i for i in range(1, self.app.state()["n_listing"] + 1) if self.app.listing(i)]

    def check_invariants(self) -> None:
        app, ledger = self.app, self.app.ledger
        assert self.total_money() == self.initial_total
        listings = self.listings()
        rentals = [app.rental(i) for i in listings if app.rental(i)]
        holders = sum(1 for k in ledger.box_keys(app.app_id) if k[:1] == b"h")
        notices = [k for k in ledger.box_keys(app.app_id) if k[:1] == b"x"]
        # a retirement box only exists beside its (cluster) listing
        assert all(app.listing(int.from_bytes(k[1:], "big"))["cluster_id"] for k in notices)
        base = (
            APP_MIN_BALANCE + LISTING_MBR * len(listings) + RENTAL_MBR * len(rentals)
            + (CLUSTER_DEPOSIT - HOLDER_MBR) * len(self.pools) + HOLDER_MBR * holders
            + RETIRE_MBR * len(notices)
        )
        owed = sum(r["deposit"] for r in rentals) + app.state()["fees_owed"]
        owed += sum(p.credited - sum(p.paid.values()) for p in self.pools)
        assert ledger.balance(app.app_address) == base + owed
        for pool in self.pools:
            for holder, count in pool.shares.items():
                assert app.holder(pool.cluster_id, holder)["shares"] == count
                assert ledger.balance(holder, pool.asset_id) == count
            assert sum(pool.shares.values()) == pool.total
            assert sum(pool.paid.values()) <= pool.credited

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def tick(self) -> int:
        self.app.ledger.now += self.rng.choice([0, 1, 7, 59, 60, 61, 120, 333, 900])
        return self.app.ledger.now

    # ----- operations --------------------------------------------------------
    def op_register(self) -> None:
        provider = self.rng.choice(self.providers)
        cluster_id = 0
        own = [p for p in self.pools if p.operator == provider]
        if own and self.rng.random() < 0.5:
            cluster_id = self.rng.choice(own).cluster_id
        self.app.register(provider, self.rng.randint(1, 5000), cluster_id=cluster_id)

    def op_update_price(self) -> bool:
        listing_id = self.pick_listing(lambda l: True)
        if not listing_id:
            return False
        provider = self.account_of(self.app.listing(listing_id)["provider"])
        self.app.update_price(provider, listing_id, self.rng.randint(1, 5000))
        return True

    def operator_holds_all(self, cluster_id: int) -> bool:
        pool = self.pools[cluster_id - 1]
        return pool.shares[self.app.app_address] + pool.shares.get(pool.operator.address, 0) == pool.total

    def op_delist(self) -> bool:
        """Free listings outside a cluster, or in a cluster none of whose shares were sold."""
        listing_id = self.pick_listing(lambda l: l["rental_id"] == 0 and (
            l["cluster_id"] == 0 or self.operator_holds_all(l["cluster_id"])))
        if not listing_id:
            return False
        listing = self.app.listing(listing_id)
        notice = self.app.retirement(listing_id)
        call = self.app.delist(self.account_of(listing["provider"]), listing_id)
        refund = LISTING_MBR + (RETIRE_MBR if notice is not None else 0)
        assert call.event("ListingDelisted")["refund"] == refund
        return True

    def refused(self, action: Any) -> None:
        """`action` is rejected and changes nothing (boxes, global state, money)."""
        ledger = self.app.ledger
        before = (copy.deepcopy(ledger.boxes), copy.deepcopy(ledger.global_states), self.total_money(),
                  ledger.balance(self.app.app_address))
        try:
            action()
        except Rejected:
            pass
        else:
            raise AssertionError("accepted")
        after = (ledger.boxes, ledger.global_states, self.total_money(), ledger.balance(self.app.app_address))
        assert after == before

    def op_announce(self) -> bool:
        """A first notice pays the box (9300); a lapsed one is replaced for a payment of 0;
        a pending notice or one in force cannot be replaced (with either payment)."""
        listing_id = self.pick_listing(lambda l: l["cluster_id"] != 0)
        if not listing_id:
            return False
        self.announce(listing_id, self.tick())
        return True

    def announce(self, listing_id: int, now: int) -> None:
        provider = self.account_of(self.app.listing(listing_id)["provider"])
        notice = self.app.retirement(listing_id)
        if notice is not None and now < notice + RETIRE_WINDOW:
            for pay in (0, RETIRE_MBR):
                self.refused(lambda pay=pay: self.app.announce_retirement(provider, listing_id, pay=pay, timestamp=now))
            self.count("announce_refused")
            return
        pay = RETIRE_MBR if notice is None else 0
        call = self.app.announce_retirement(provider, listing_id, pay=pay, timestamp=now)
        assert call.value == now + RETIRE_NOTICE == self.app.retirement(listing_id)
        if notice is not None:
            self.count("reannounce")

    def op_retire(self) -> bool:
        """Delist an announced cluster GPU. Unless its operator holds every share: refused
        (and nothing changes) while the notice is pending; then the clock jumps to its
        effective time plus 0, 1, 7 days - 1, 7 days, 7 days + 1 or 400 days. In the
        window the delist is accepted; past it the lapsed notice is refused, announced
        again for a payment of 0, and the delist waits for the new window."""
        announced = [i for i in self.listings() if self.app.retirement(i) is not None
                     and self.app.listing(i)["rental_id"] == 0]
        if not announced:
            return False
        listing_id = self.rng.choice(announced)
        listing, effective = self.app.listing(listing_id), self.app.retirement(listing_id)
        provider = self.account_of(listing["provider"])
        ledger = self.app.ledger
        if not self.operator_holds_all(listing["cluster_id"]):
            if ledger.now < effective:
                self.refused(lambda: self.app.delist(provider, listing_id))
                ledger.now = effective + self.rng.choice(
                    [0, 1, RETIRE_WINDOW - 1, RETIRE_WINDOW, RETIRE_WINDOW + 1, 400 * DAY])
            if ledger.now >= effective + RETIRE_WINDOW:
                self.refused(lambda: self.app.delist(provider, listing_id))
                self.count("retire_lapsed")
                self.refused(lambda: self.app.announce_retirement(provider, listing_id, pay=RETIRE_MBR))
                call = self.app.announce_retirement(provider, listing_id, pay=0, timestamp=ledger.now)
                effective = call.value
                assert effective == ledger.now + RETIRE_NOTICE == self.app.retirement(listing_id)
                self.count("reannounce")
                ledger.now = effective + self.rng.choice([0, RETIRE_WINDOW - 1, self.rng.randrange(RETIRE_WINDOW)])
        call = self.app.delist(provider, listing_id, timestamp=ledger.now)
        assert call.event("ListingDelisted")["refund"] == LISTING_MBR + RETIRE_MBR
        assert self.app.retirement(listing_id) is None
        return True

    def op_rent(self) -> bool:
        listing_id = self.pick_listing(lambda l: l["rental_id"] == 0)
        if not listing_id:
            return False
        self.app.rent(self.rng.choice(self.renters), listing_id, self.rng.randint(1, 30), timestamp=self.tick())
        return True

    def op_extend(self) -> bool:
        now = self.tick()
        active = [i for i in self.listings() if self.app.rental(i) and self.app.rental(i)["max_end"] > now]
        if not active:
            return False
        listing_id = self.rng.choice(active)
        rental = self.app.rental(listing_id)
        self.app.extend(self.account_of(rental["renter"]), listing_id, rental["rental_id"],
                        self.rng.randint(1, 10), timestamp=now)
        return True

    def op_stop(self, expire: bool = False) -> bool:
        now = self.tick()
        active = [i for i in self.listings() if self.app.rental(i)]
        if expire:
            active = [i for i in active if self.app.rental(i)["max_end"] <= now]
        if not active:
            return False
        listing_id = self.rng.choice(active)
        rental, listing = self.app.rental(listing_id), self.app.listing(listing_id)
        if expire:
            caller = self.stranger
        else:
            caller = self.rng.choice([self.account_of(rental["renter"]),
                                      self.account_of(listing["provider"]), self.app.admin])
        elapsed = min(now, rental["max_end"]) - rental["start"]
        expected = list(settle(rental["price"], rental["deposit"], elapsed, rental["fee_bps"]))
        call = self.app.stop(caller, listing_id, timestamp=now)
        assert call.value == expected
        if listing["cluster_id"] and expected[2]:
            pool = self.pools[listing["cluster_id"] - 1]
            pool.credit(expected[2])
            assert call.event("ClusterRevenue")["amount"] == expected[2]
        return True

    def op_create_cluster(self) -> None:
        operator = self.rng.choice(self.providers)
        total = self.rng.choice([7, 100, 1000, 999_983])
        call = self.app.create_cluster(operator, total, self.rng.randint(0, 30))
        cluster_id, asset_id = call.value
        pool = Pool(cluster_id, asset_id, operator, total, shares={self.app.app_address: total})
        self.pools.append(pool)
        for investor in self.investors:
            self.app.opt_in(investor, asset_id)
            self.app.join(investor, cluster_id)
            pool.shares[investor.address] = 0
        self.app.register(operator, self.rng.randint(100, 5000), cluster_id=cluster_id)

    def op_buy(self) -> bool:
        pools = [p for p in self.pools if p.shares[self.app.app_address] > 0]
        if not pools:
            return False
        pool = self.rng.choice(pools)
        investor = self.rng.choice(self.investors)
        count = self.rng.randint(1, min(pool.shares[self.app.app_address], max(1, pool.total // 5)))
        self.app.buy(investor, pool.cluster_id, count)
        pool.move(self.app.app_address, investor.address, count)
        return True

    def op_transfer(self) -> bool:
        candidates = [(p, i) for p in self.pools for i in self.investors if p.shares[i.address] > 0]
        if not candidates:
            return False
        pool, source = self.rng.choice(candidates)
        target = self.rng.choice([i for i in self.investors if i != source])
        count = self.rng.randint(1, pool.shares[source.address])
        self.app.transfer(source, pool.cluster_id, target.address, count)
        pool.move(source.address, target.address, count)
        return True

    def op_claim(self, unsold: bool = False) -> bool:
        if not self.pools:
            return False
        pool = self.rng.choice(self.pools)
        if unsold:
            call = self.app.claim_unsold(pool.operator, pool.cluster_id)
            holder = self.app.app_address
        else:
            investor = self.rng.choice(self.investors)
            call = self.app.claim(investor, pool.cluster_id)
            holder = investor.address
        pool.paid[holder] = pool.paid.get(holder, 0) + call.value
        return True

    def op_withdraw(self) -> None:
        self.app.withdraw_fees(self.rng.choice(self.renters))

    def op_set_fee(self) -> None:
        self.app.call(self.app.admin, "set_fee", [self.rng.choice([0, 1, 250, 1999, 2000])])

    # ----- helpers -----------------------------------------------------------
    def pick_listing(self, predicate: Any) -> int | None:
        found = [i for i in self.listings() if predicate(self.app.listing(i))]
        return self.rng.choice(found) if found else None

    def account_of(self, address: str) -> Account:
        for acct in self.providers + self.renters + self.investors + [self.app.admin, self.stranger]:
            if acct.address == address:
                return acct
        raise KeyError(address)

    def step(self) -> None:
        ops = [
            ("register", 6, self.op_register), ("update_price", 3, self.op_update_price),
            ("delist", 2, self.op_delist), ("rent", 14, self.op_rent), ("extend", 5, self.op_extend),
            ("stop", 10, self.op_stop), ("expire", 5, lambda: self.op_stop(expire=True)),
            ("create_cluster", 1 if len(self.pools) < 2 else 0, self.op_create_cluster),
            ("buy", 6, self.op_buy), ("transfer", 5, self.op_transfer), ("claim", 5, self.op_claim),
            ("claim_unsold", 2, lambda: self.op_claim(unsold=True)),
            ("withdraw_fees", 1, self.op_withdraw), ("set_fee", 1, self.op_set_fee),
            ("announce", 1, self.op_announce), ("retire", 1, self.op_retire),
        ]
        while True:
            name, _, action = self.rng.choices(ops, weights=[w for _, w, _ in ops])[0]
            if action() is not False:
                self.count(name)
                return

    def claim_everything(self) -> None:
        for pool in self.pools:
            for investor in self.investors:
                call = self.app.claim(investor, pool.cluster_id)
                pool.paid[investor.address] = pool.paid.get(investor.address, 0) + call.value
            call = self.app.claim_unsold(pool.operator, pool.cluster_id)
            holder = self.app.app_address
            pool.paid[holder] = pool.paid.get(holder, 0) + call.value


def test_random_sequence_keeps_every_invariant() -> None:
    run = Run(SEED)
    run.op_create_cluster()
    for provider in run.providers:
        run.app.register(provider, run.rng.randint(1, 5000))
    run.check_invariants()
    for number in range(OPERATIONS):
        run.step()
        if number % 10 == 0:
            run.check_invariants()
    # settle everything still running, pay out every pool, sweep the fees
    run.app.ledger.now += 10**6
    while run.op_stop(expire=True):
        run.count("expire")
    run.claim_everything()
    run.op_withdraw()
    run.check_invariants()
    # every cluster GPU announces (again): a first notice pays its box, a notice still
    # pending or in force is refused, a lapsed one is replaced for 0; then, a year
    # later, every notice has lapsed and is replaced
    cluster_gpus = [i for i in run.listings() if run.app.listing(i)["cluster_id"]]
    for listing_id in cluster_gpus:
        run.announce(listing_id, run.app.ledger.now)
    run.check_invariants()
    run.app.ledger.now += 365 * DAY
    for listing_id in cluster_gpus:
        run.announce(listing_id, run.app.ledger.now)
    assert all(run.app.retirement(i) == run.app.ledger.now + RETIRE_NOTICE for i in cluster_gpus)
    run.check_invariants()

    assert sum(run.counts.values()) >= 200
    assert {"rent", "extend", "stop", "expire", "register", "delist", "buy", "transfer", "claim",
            "announce", "announce_refused", "reannounce", "retire", "retire_lapsed"} <= set(run.counts), run.counts

    for pool in run.pools:
        assert sum(pool.paid.values()) <= pool.credited
        for holder, exact in pool.exact.items():
            paid = pool.paid.get(holder, 0)
            bound = 1 + Fraction((pool.changes.get(holder, 0) + 1) * pool.total, SCALE)
            assert abs(exact - paid) < bound, (holder, exact, paid)
            if pool.changes.get(holder, 0) == 0:
                assert paid <= exact  # constant holdings: never more than the exact share
    # nothing is owed any more: the app keeps only its minimum balance
    assert run.app.state()["fees_owed"] == 0
