"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*).

Real inputs only, from what the project already holds:

- msgpack_txn: every signed transaction of crates/devnet/tests/fixtures/sdk_txns.json
  (each kind the devnet decodes, signed by py-algorand-sdk), every group of
  crates/devnet/tests/fixtures/ledger_vectors.json (payments, rekeys, assets, apps, the
  contract's deployment and calls, evaluated on go-algorand) and of
  crates/chain/tests/fixtures/client_groups.json, and a payment and a group signed by
  the devnet's dev accounts for the devnet's genesis, which a fresh node accepts as sent;
- signed_group: the fixture's `rent` group (the one the target awaits) in each of the
  target's input modes, and the other client groups as parts;
- teal_asm: the contract (contracts/bitfox.teal, contracts/v1/bitfox.teal,
  contracts/clear.teal), the devnet's counter app and the assembler's conformance
  programs under 3 KB (crates/avm/tests/programs);
- arc28_event: one log per event of contracts/bitfox.arc56.json, a method's return
  value, and a few logs joined by newlines (the target's list separator).

Deterministic. Needs py-algorand-sdk (the project's .venv, made by scripts/test-contract):

    .venv/bin/python fuzz/seeds.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", category=DeprecationWarning)

from algosdk import transaction  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fuzz/corpus"


def sha512_256(data: bytes) -> bytes:
    return hashlib.new("sha512_256", data).digest()


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


# --- the devnet's genesis (crates/devnet/src/node.rs) -------------------------------

GENESIS_ID = "bitfox-devnet-v1"
DEV_BALANCE = 1_000_000_000_000
DISPENSER_BALANCE = 1_000_000_000_000_000


def dev_key(index: int) -> tuple[str, bytes]:
    """Dev account `index`: (the SDK's private key, the public key)."""
    import nacl.signing

    seed = sha512_256(b"bitfox-devnet-dev-account" + bytes([index]))
    signing = nacl.signing.SigningKey(seed)
    public = bytes(signing.verify_key)
    return base64.b64encode(seed + public).decode(), public


def devnet_genesis_hash() -> bytes:
    allocation = [(dev_key(i)[1], DEV_BALANCE) for i in range(10)]
    allocation.append((dev_key(255)[1], DISPENSER_BALANCE))
    data = GENESIS_ID.encode()
    for public, balance in allocation:
        data += public + struct.pack(">Q", balance)
    return sha512_256(data)


def devnet_seeds() -> None:
    from algosdk import encoding

    gh = base64.b64encode(devnet_genesis_hash()).decode()
    params = transaction.SuggestedParams(
        fee=1000, first=1, last=1001, gh=gh, gen=GENESIS_ID, flat_fee=True
    )
    (a_sk, a_pk), (b_sk, b_pk) = dev_key(0), dev_key(1)
    a, b = encoding.encode_address(a_pk), encoding.encode_address(b_pk)
    pay = transaction.PaymentTxn(a, params, b, 5_000, note=b"fuzz seed")
    write("msgpack_txn", "devnet-pay", base64.b64decode(encoding.msgpack_encode(pay.sign(a_sk))))
    one = transaction.PaymentTxn(a, params, b, 7, note=b"one")
    two = transaction.PaymentTxn(b, params, a, 3, note=b"two")
    transaction.assign_group_id([one, two])
    group = b"".join(
        base64.b64decode(encoding.msgpack_encode(t.sign(sk))) for t, sk in ((one, a_sk), (two, b_sk))
    )
    write("msgpack_txn", "devnet-group", group)


# --- msgpack_txn ----------------------------------------------------------------------


def msgpack_seeds() -> None:
    sdk = json.loads((ROOT / "crates/devnet/tests/fixtures/sdk_txns.json").read_text())
    for fixture in sdk:
        write("msgpack_txn", f"sdk-{fixture['name']}", b64(fixture["stxn"]))
    vectors = json.loads((ROOT / "crates/devnet/tests/fixtures/ledger_vectors.json").read_text())
    for scenario in vectors["scenarios"]:
        for i, block in enumerate(scenario["blocks"]):
            group = b"".join(b64(s) for s in block["group"])
            write("msgpack_txn", f"ledger-{scenario['name']}-{i:02}", group)
    for group in client_groups()["groups"]:
        write("msgpack_txn", f"client-{group['name']}", b"".join(b64(s) for s in group["stxns"]))
    devnet_seeds()


# --- signed_group ---------------------------------------------------------------------


def client_groups() -> dict:
    return json.loads((ROOT / "crates/chain/tests/fixtures/client_groups.json").read_text())


def parts(stxns: list[bytes]) -> bytes:
    return b"".join(struct.pack(">H", len(s)) + s for s in stxns)


def signed_group_seeds() -> None:
    groups = {g["name"]: [b64(s) for s in g["stxns"]] for g in client_groups()["groups"]}
    rent = groups["rent"]
    body = b"".join(rent)
    boundary = struct.pack(">H", len(rent[0]))
    write("signed_group", "rent-parts", b"\x00" + parts(rent))
    write("signed_group", "rent-cut", b"\x01\x01" + boundary + body)
    write("signed_group", "rent-genuine-cut", b"\x02" + boundary)
    for i, stxn in enumerate(rent):
        write("signed_group", f"rent-replace-{i}", b"\x03" + bytes([i]) + stxn)
    for name, stxns in groups.items():
        if name != "rent":
            write("signed_group", f"parts-{name}", b"\x00" + parts(stxns))


# --- teal_asm -------------------------------------------------------------------------


def teal_seeds() -> None:
    for path in ["contracts/bitfox.teal", "contracts/v1/bitfox.teal", "contracts/clear.teal"]:
        name = path.replace("/", "-").removesuffix(".teal")
        write("teal_asm", name, (ROOT / path).read_bytes())
    write("teal_asm", "counter", (ROOT / "crates/devnet/tests/fixtures/counter.teal").read_bytes())
    for path in sorted((ROOT / "crates/avm/tests/programs").glob("*.teal")):
        if path.stat().st_size < 3_000:
            write("teal_asm", f"avm-{path.stem}", path.read_bytes())


# --- arc28_event ----------------------------------------------------------------------


def arc4(kind: str, n: int) -> bytes:
    return {
        "uint64": lambda: struct.pack(">Q", n),
        "uint128": lambda: n.to_bytes(16, "big"),
        "address": lambda: bytes([n % 256]) * 32,
        "bool": lambda: b"\x80" if n % 2 else b"\x00",
    }[kind]()


def event_log(event: dict, n: int) -> bytes:
    types = [arg["type"] for arg in event["args"]]
    signature = f"{event['name']}({','.join(types)})"
    head, tail = b"", b""
    for i, kind in enumerate(types):
        if kind == "string":
            text = b"bitfox://clusters/1"
            head += struct.pack(">H", 0)  # patched below: the head's length
            tail += struct.pack(">H", len(text)) + text
        else:
            head += arc4(kind, n + i)
    if "string" in types:
        at = sum(len(arc4(k, 0)) for k in types[: types.index("string")])
        head = head[:at] + struct.pack(">H", len(head)) + head[at + 2 :]
    return sha512_256(signature.encode())[:4] + head + tail


def event_seeds() -> None:
    spec = json.loads((ROOT / "contracts/bitfox.arc56.json").read_text())
    logs = [event_log(event, 0x20) for event in spec["events"]]
    for event, log in zip(spec["events"], logs):
        write("arc28_event", event["name"], log)
    write("arc28_event", "return-value", bytes.fromhex("151f7c75") + struct.pack(">Q", 9))
    write("arc28_event", "several", b"\n".join([logs[0], logs[4], logs[6]]))


if __name__ == "__main__":
    msgpack_seeds()
    signed_group_seeds()
    teal_seeds()
    event_seeds()
