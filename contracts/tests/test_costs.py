"""Opcode cost of every method, measured on go-algorand, and the fee budget.

Measurement build: the production TEAL with one probe at its single success
exit (`ok:`), which logs `global OpcodeBudget` before `int 1; return`. Control
flow is otherwise identical, so the production cost of a call is
    ops before `ok` + 2 (int 1, return) = 701 - logged budget
(`global OpcodeBudget` reports the budget after charging itself: calibrated
below). Every production test already runs with a single 700 budget and no
padding; this file reports the exact figures.
"""

from __future__ import annotations

from typing import Any

import pytest

from bitfox_app import APPROVAL_PATH, MIN_FEE, RETIRE_WINDOW, BitFox, holder_key
from bitfox_ref import abi

EXIT = "ok:\nint 1\nreturn\n"
PROBE = "ok:\nglobal OpcodeBudget\nitob\nlog\nint 1\nreturn\n"
BUDGET = 700
COSTS: dict[str, int] = {}


def instrumented_source() -> str:
    source = APPROVAL_PATH.read_text()
    assert source.count(EXIT) == 1, "the approval program must have one success exit"
    assert source.count("\nreturn\n") == 1, "no other return may bypass the probe"
    return source.replace(EXIT, PROBE)


def cost_of(logs: list[bytes]) -> int:
    return BUDGET + 1 - int.from_bytes(logs[-1], "big")


def record(name: str, call: Any) -> None:
    logs = call.logs if hasattr(call, "logs") else call
    COSTS[name] = max(COSTS.get(name, 0), cost_of(logs))


@pytest.fixture(scope="module")
def measured() -> dict[str, int]:
    app = BitFox(approval=instrumented_source(), probe=True)
    COSTS.clear()
    deploy = app.deploy()
    record("create", deploy.result.txns[0].logs)
    provider = app.account("provider", 5_000_000)
    renter = app.account("renter", 50_000_000)
    investor = app.account("investor", 5_000_000)
    other = app.account("other", 5_000_000)

    def run(name: str, method: str, *args: Any, **kw: Any) -> Any:
        # the return value (if any) precedes the probe's log
        call = getattr(app, method)(*args, **kw)
        record(name, call)
        return call

    run("register_listing", "register", provider, 1000)
    run("update_price", "update_price", provider, 1, 1200)
    run("rent", "rent", renter, 1, 10)
    t0 = app.ledger.now
    run("extend", "extend", renter, 1, 1, 5, timestamp=t0 + 60)
    run("stop", "stop", renter, 1, timestamp=t0 + 125)
    run("rent", "rent", renter, 1, 1)
    run("stop (zero cost)", "stop", renter, 1)
    run("delist", "delist", provider, 1)
    record("quote", app.call(renter, "quote", [2**64 - 1, 2**64 - 1, 2**64 - 1, 2000]))
    record("set_fee", app.call(app.admin, "set_fee", [300]))
    record("set_treasury", app.call(app.admin, "set_treasury", [app.treasury.address]))
    record("set_paused", app.call(app.admin, "set_paused", [False]))
    record("set_admin", app.call(app.admin, "set_admin", [app.admin.address]))
    run("withdraw_fees", "withdraw_fees", other)

    cluster = run("create_cluster", "create_cluster", provider, 1000, 100)
    cluster_id, asset_id = cluster.value
    run("register_listing", "register", provider, 6000, cluster_id=cluster_id)
    listing_id = app.state()["n_listing"]
    for who in (investor, other):
        app.opt_in(who, asset_id)
        run("join_cluster", "join", who, cluster_id)
    run("buy_shares", "buy", investor, cluster_id, 300)
    app.rent(renter, listing_id, 7)
    run("stop (cluster revenue)", "stop", renter, listing_id, timestamp=app.ledger.now + 333)
    run("transfer_shares", "transfer", investor, cluster_id, other.address, 100)
    run("claim", "claim", investor, cluster_id)
    run("claim_unsold", "claim_unsold", provider, cluster_id)
    assert app.holder(cluster_id, investor.address)["owed"] == 0
    # v2: a cluster GPU leaves while its notice is in force (its last second measured),
    # or at once while the operator holds every share (measured without a notice, with a
    # pending one and with a lapsed one: box deleted, shares counted)
    effective = run("announce_retirement", "announce_retirement", provider, listing_id).value
    run("delist (notice in force)", "delist", provider, listing_id,
        timestamp=effective + RETIRE_WINDOW - 1)
    second, _ = app.create_cluster(provider, 10, 1).value
    for notice in (None, "pending", "lapsed"):
        app.register(provider, 6000, cluster_id=second)
        listing_id = app.state()["n_listing"]
        if notice:
            effective = app.announce_retirement(provider, listing_id).value
        if notice == "lapsed":
            app.ledger.now = effective + RETIRE_WINDOW
        run("delist (all shares held)", "delist", provider, listing_id)
    # a lapsed notice replaced by a new one (payment of 0)
    app.register(provider, 6000, cluster_id=second)
    listing_id = app.state()["n_listing"]
    effective = app.announce_retirement(provider, listing_id).value
    run("announce_retirement (replace)", "announce_retirement", provider, listing_id, pay=0,
        timestamp=effective + RETIRE_WINDOW)
    assert app.ledger.box(app.app_id, holder_key(cluster_id, app.app_address)) is not None
    return dict(COSTS)


def test_probe_calibration() -> None:
    """A program that is only the exit costs 2 in production; the probe says so."""
    from algojig import TealProgram
    from algosdk import transaction

    from bitfox_ref import RefLedger, compile_teal, make_account
    from bitfox_ref.jig import suggested_params

    assert compile_teal(APPROVAL_PATH.read_text().replace(EXIT, PROBE)).bytecode
    source = "#pragma version 9\n" + PROBE
    compiled = compile_teal(source)
    ledger = RefLedger()
    ledger.create_app(4242, approval_program=TealProgram(
        teal=source, bytecode=compiled.bytecode, source_map=compiled.source_map))
    caller = make_account("calibration")
    ledger.fund(caller.address, 1_000_000)
    txn = transaction.ApplicationCallTxn(caller.address, suggested_params(), 4242, 0)
    result = ledger.eval([txn.sign(caller.private_key)])
    assert cost_of(result.txns[0].logs) == 2


def test_every_method_fits_one_app_call_budget(measured: dict[str, int]) -> None:
    names = {m.split(" ")[0] for m in measured}
    from bitfox_app import SIGNATURES

    assert names == set(SIGNATURES), set(SIGNATURES) ^ names
    assert all(0 < cost <= BUDGET for cost in measured.values()), measured


def test_print_cost_table(measured: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    fees = {
        "rent (pay + call)": 2 * MIN_FEE,
        "stop (call + 2 inner payments)": 3 * MIN_FEE,
    }
    lifecycle = sum(fees.values())
    assert lifecycle <= 5 * MIN_FEE
    lines = ["", "BitFox opcode cost per method (budget 700, no padding):"]
    lines += [f"  {name:<26} {cost:>4}" for name, cost in sorted(measured.items())]
    lines += [f"  fees: {k} = {v}" for k, v in fees.items()]
    lines += [f"  rent + stop lifecycle = {lifecycle} microAlgo = {lifecycle // MIN_FEE} min fees"]
    TABLE.extend(lines)
    with capsys.disabled():
        print("\n".join(lines))


TABLE: list[str] = []


def test_ret_prefix_unchanged() -> None:
    assert abi.RETURN_PREFIX == bytes.fromhex("151f7c75")
