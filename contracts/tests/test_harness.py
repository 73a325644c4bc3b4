"""The reference harness itself, proven on a multi-block scenario computed by hand.

A tiny app creates a default-frozen asset with itself as manager/reserve/
freeze/clawback, hands it out with clawback transfers, gives its whole supply
away and takes some back, and pays an account: exactly the paths where the
0.0.2 wrapper loses state (see bitfox_ref/jig.py).
"""

from __future__ import annotations

import pytest
from algojig import TealProgram
from algosdk import transaction
from algosdk.logic import get_application_address

from bitfox_ref import AssembleError, Rejected, RefLedger, compile_teal, make_account
from bitfox_ref.jig import suggested_params

APP_ID = 5000
T0 = 1_000_000

TOY_APP = """#pragma version 9
global LatestTimestamp
itob
log
txn ApplicationID
bz done
txna ApplicationArgs 0
byte "mk"
==
bnz mk
txna ApplicationArgs 0
byte "give"
==
bnz give
txna ApplicationArgs 0
byte "take"
==
bnz take
txna ApplicationArgs 0
byte "pay"
==
bnz pay
err
mk:
itxn_begin
int acfg
itxn_field TypeEnum
int 1000
itxn_field ConfigAssetTotal
int 1
itxn_field ConfigAssetDefaultFrozen
global CurrentApplicationAddress
dup
itxn_field ConfigAssetManager
dup
itxn_field ConfigAssetReserve
dup
itxn_field ConfigAssetFreeze
itxn_field ConfigAssetClawback
int 0
itxn_field Fee
itxn_submit
byte "asset"
itxn CreatedAssetID
app_global_put
b done
give:
global CurrentApplicationAddress
txna Accounts 1
b move
take:
txna Accounts 1
global CurrentApplicationAddress
move:
itxn_begin
itxn_field AssetReceiver
itxn_field AssetSender
int axfer
itxn_field TypeEnum
byte "asset"
app_global_get
itxn_field XferAsset
txna ApplicationArgs 1
btoi
itxn_field AssetAmount
int 0
itxn_field Fee
itxn_submit
b done
pay:
itxn_begin
int pay
itxn_field TypeEnum
txna Accounts 1
itxn_field Receiver
txna ApplicationArgs 1
btoi
itxn_field Amount
int 0
itxn_field Fee
itxn_submit
done:
int 1
"""


def toy_ledger() -> RefLedger:
    ledger = RefLedger(start_timestamp=T0)
    compiled = compile_teal(TOY_APP)
    program = TealProgram(teal=TOY_APP, bytecode=compiled.bytecode, source_map=compiled.source_map)
    ledger.create_app(APP_ID, approval_program=program, global_ints=1, global_bytes=0)
    return ledger


def call(sender, *args: bytes, accounts=None, assets=None, fee: int = 2000):
    sp = suggested_params(fee=fee)
    txn = transaction.ApplicationCallTxn(
        sender.address, sp, APP_ID, transaction.OnComplete.NoOpOC,
        app_args=list(args), accounts=accounts, foreign_assets=assets,
    )
    return txn.sign(sender.private_key)


def pay(sender, receiver: str, amount: int):
    return transaction.PaymentTxn(sender.address, suggested_params(), receiver, amount).sign(
        sender.private_key
    )


def test_assembler_reports_errors() -> None:
    with pytest.raises(AssembleError, match="unknown opcode"):
        compile_teal("#pragma version 9\nnot_an_opcode\n")
    assert compile_teal("#pragma version 9\nint 1\n").bytecode == b"\x09\x81\x01"


def test_multi_block_scenario_by_hand() -> None:
    ledger = toy_ledger()
    app_addr = get_application_address(APP_ID)
    alice, bob, carol = make_account("alice"), make_account("bob"), make_account("carol")
    ledger.fund(alice.address, 10_000_000)

    # Block 1: two payments.
    ledger.eval([pay(alice, bob.address, 1_000_000), pay(alice, app_addr, 300_000)], T0)
    assert ledger.balance(alice.address) == 10_000_000 - 1_000_000 - 300_000 - 2 * 1000
    assert ledger.balance(bob.address) == 1_000_000
    assert ledger.balance(app_addr) == 300_000

    # Block 2: the app creates a default-frozen asset (inner fee pooled by alice).
    result = ledger.eval([call(alice, b"mk")], T0 + 60)
    assert result.txns[0].logs == [(T0 + 60).to_bytes(8, "big")]
    asset_id = ledger.global_state(APP_ID)[b"asset"]
    assert result.txns[0].inner[0][b"caid"] == asset_id
    params = ledger.asset_params(asset_id)
    raw_app = bytes(transaction.encoding.decode_address(app_addr))
    assert params["creator"] == app_addr
    assert params["default_frozen"] is True
    for role in ("manager", "reserve", "freeze", "clawback"):
        assert params[role] == raw_app, role
    assert ledger.balance(alice.address) == 8_698_000 - 2000
    assert ledger.balance(app_addr) == 300_000
    assert ledger.balance(app_addr, asset_id) == 1000

    # Block 3: bob opts in; his holding is frozen by default.
    optin = transaction.AssetTransferTxn(bob.address, suggested_params(), bob.address, 0, asset_id)
    ledger.eval([optin.sign(bob.private_key)], T0 + 120)
    assert ledger.balance(bob.address) == 999_000
    assert ledger.holds(bob.address, asset_id) and ledger.frozen(bob.address, asset_id)

    # Block 4: clawback transfer app -> bob (needs the raw clawback key).
    ledger.eval([call(alice, b"give", (400).to_bytes(8, "big"), accounts=[bob.address], assets=[asset_id])], T0 + 180)
    assert ledger.balance(bob.address, asset_id) == 400
    assert ledger.balance(app_addr, asset_id) == 600
    assert ledger.balance(alice.address) == 8_694_000

    # Block 5: a block that does not touch the app or its creator keeps their state.
    ledger.eval([pay(bob, alice.address, 1000)], T0 + 240)
    assert ledger.balance(bob.address) == 997_000
    assert ledger.balance(alice.address) == 8_695_000
    assert ledger.global_state(APP_ID)[b"asset"] == asset_id
    assert ledger.asset_params(asset_id)["manager"] == raw_app

    # Block 6: the app gives its whole supply away (creator holding zero).
    ledger.eval([call(alice, b"give", (600).to_bytes(8, "big"), accounts=[bob.address], assets=[asset_id])], T0 + 300)
    assert ledger.balance(app_addr, asset_id) == 0
    assert ledger.balance(bob.address, asset_id) == 1000

    # Block 7: ...and can still take one back (creator-and-holder row kept).
    ledger.eval([call(alice, b"take", (1).to_bytes(8, "big"), accounts=[bob.address], assets=[asset_id])], T0 + 360)
    assert ledger.balance(app_addr, asset_id) == 1
    assert ledger.balance(bob.address, asset_id) == 999
    assert ledger.balance(alice.address) == 8_691_000

    # Block 8: an inner payment to an account named only in the foreign array;
    # the app keeps exactly its minimum balance (account + one asset).
    ledger.eval([call(alice, b"pay", (100_000).to_bytes(8, "big"), accounts=[carol.address])], T0 + 420)
    assert ledger.balance(carol.address) == 100_000
    assert ledger.balance(app_addr) == 200_000
    assert ledger.balance(alice.address) == 8_689_000

    # A rejected block changes nothing.
    with pytest.raises(Rejected, match="overspend"):
        ledger.eval([pay(bob, alice.address, 5_000_000)], T0 + 480)
    assert ledger.balance(bob.address) == 997_000
    assert ledger.balance(alice.address) == 8_689_000
    with pytest.raises(Rejected, match="below min"):
        ledger.eval([call(alice, b"pay", (1).to_bytes(8, "big"), accounts=[carol.address])], T0 + 480)
    assert ledger.balance(app_addr) == 200_000

    # Boxes and timestamps survive across blocks: checked by the contract suites.
    assert ledger.now == T0 + 480


def test_raw_signed_bytes_and_cli() -> None:
    """Other implementations hand the harness msgpack bytes, as they are."""
    import base64
    import subprocess
    import sys
    from pathlib import Path

    from algosdk import encoding

    ledger = RefLedger()
    alice, bob = make_account("alice"), make_account("bob")
    ledger.fund(alice.address, 1_000_000)
    raw = base64.b64decode(encoding.msgpack_encode(pay(alice, bob.address, 123_456)))
    ledger.eval([raw])
    assert ledger.balance(bob.address) == 123_456
    assert ledger.balance(alice.address) == 1_000_000 - 123_456 - 1000

    reference = Path(__file__).resolve().parents[2] / "reference"
    out = subprocess.run([sys.executable, "-m", "bitfox_ref", "compile"], input=b"#pragma version 9\nint 1\n",
                         capture_output=True, cwd=reference)
    assert out.returncode == 0 and out.stdout.strip() == b"CYEB"
    bad = subprocess.run([sys.executable, "-m", "bitfox_ref", "compile"], input=b"#pragma version 9\nfoo\n",
                         capture_output=True, cwd=reference)
    assert bad.returncode == 1 and b"unknown opcode" in bad.stderr
