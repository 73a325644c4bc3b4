"""The programs assemble with go-algorand, and the ARC-56 spec matches the TEAL."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from bitfox_app import (
    APPROVAL_PATH, CLEAR_PATH, CONTRACTS, EXTRA_PAGES, GLOBAL_BYTES, GLOBAL_INTS, BitFox, load_spec,
    method_signature,
)
from bitfox_ref import abi, compile_teal
from refresh_spec import refreshed


def teal_signatures() -> set[str]:
    return set(re.findall(r'^method "([^"]+)"', APPROVAL_PATH.read_text(), flags=re.M))


def test_programs_assemble_with_go_algorand() -> None:
    approval = compile_teal(APPROVAL_PATH.read_text())
    clear = compile_teal(CLEAR_PATH.read_text())
    assert approval.bytecode[0] == 9 and clear.bytecode[0] == 9  # pragma version 9
    assert 2048 * EXTRA_PAGES < len(approval.bytecode) <= 2048 * (1 + EXTRA_PAGES)
    assert clear.bytecode == b"\x09\x81\x01"


def test_spec_embeds_current_programs() -> None:
    spec = load_spec()
    assert spec == refreshed(load_spec()), "run contracts/tests/refresh_spec.py"
    assert base64.b64decode(spec["source"]["approval"]) == APPROVAL_PATH.read_bytes()


def test_spec_methods_and_events_match_the_teal() -> None:
    spec = load_spec()
    methods = {method_signature(m) for m in spec["methods"]}
    events = {f"{e['name']}({','.join(a['type'] for a in e['args'])})" for e in spec["events"]}
    assert teal_signatures() == methods | events
    assert len(spec["methods"]) == len(methods) and len(spec["events"]) == len(events)
    for method in spec["methods"]:
        for event in method["events"]:
            assert event in spec["events"]
    creates = [m["name"] for m in spec["methods"] if m["actions"]["create"]]
    assert creates == ["create"]
    assert spec["bareActions"] == {"create": [], "call": []}
    assert abi.selector("create(address,uint64)void") == abi.selector(
        method_signature([m for m in spec["methods"] if m["name"] == "create"][0])
    )


def test_spec_state_matches_the_deployed_app(bitfox: BitFox) -> None:
    spec = load_spec()
    schema = spec["state"]["schema"]["global"]
    assert (schema["ints"], schema["bytes"]) == (GLOBAL_INTS, GLOBAL_BYTES)
    keys = spec["state"]["keys"]["global"]
    state = bitfox.state()
    assert {base64.b64decode(k["key"]).decode() for k in keys.values()} == set(state)
    for name, key in keys.items():
        value = state[name]
        assert isinstance(value, bytes) == (key["valueType"] == "address")
    prefixes = {n: base64.b64decode(m["prefix"]) for n, m in spec["state"]["maps"]["box"].items()}
    assert prefixes == {"listings": b"l", "rentals": b"r", "clusters": b"c", "holders": b"h",
                        "retirements": b"x"}
    sizes = {"Listing": 56, "Rental": 80, "Cluster": 80, "Holder": 40, "HolderKey": 40}
    widths = {"address": 32, "uint64": 8, "uint128": 16}
    for struct, size in sizes.items():
        assert sum(widths[f["type"]] for f in spec["structs"][struct]) == size


# ----- version 1 (contracts/v1) ------------------------------------------------------
V1 = CONTRACTS / "v1"
V1_SHA256 = {
    "bitfox.teal": "fc941bf6c0476a873b6fb41794dbcc0e45149b5e9dcb0faa58ed8a5df438e5ad",
    "bitfox.arc56.json": "bee3f926e0c67a57179bb77735048002c76965318b44bc9c2db4e076930ab9fa",
}


def signatures(spec: dict) -> tuple[set[str], set[str]]:
    methods = {method_signature(m) for m in spec["methods"]}
    events = {f"{e['name']}({','.join(a['type'] for a in e['args'])})" for e in spec["events"]}
    return methods, events


def test_v1_is_kept_byte_identical() -> None:
    """v1 stays deployed: its program and spec must never change."""
    for name, digest in V1_SHA256.items():
        assert hashlib.sha256((V1 / name).read_bytes()).hexdigest() == digest, name
    v1_spec = json.loads((V1 / "bitfox.arc56.json").read_text())
    v1_teal = (V1 / "bitfox.teal").read_text()
    assert base64.b64decode(v1_spec["source"]["approval"]).decode() == v1_teal
    assert base64.b64decode(v1_spec["byteCode"]["approval"]) == compile_teal(v1_teal).bytecode


def test_v2_keeps_every_v1_selector_and_event() -> None:
    v1_methods, v1_events = signatures(json.loads((V1 / "bitfox.arc56.json").read_text()))
    v2_methods, v2_events = signatures(load_spec())
    assert v2_methods - v1_methods == {"announce_retirement(uint64,pay)uint64"}
    assert v1_methods <= v2_methods
    assert v2_events - v1_events == {"RetirementAnnounced(uint64,uint64,address,uint64)"}
    assert v1_events <= v2_events
    assert abi.selector("announce_retirement(uint64,pay)uint64").hex() == "6b43be3d"
    assert abi.selector("RetirementAnnounced(uint64,uint64,address,uint64)").hex() == "e8b96baa"
