"""ARC-4 method calls, return values and ARC-28 events, without an algod client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from algosdk import abi, transaction
from algosdk.encoding import checksum

RETURN_PREFIX = bytes.fromhex("151f7c75")
TXN_TYPES = ("txn", "pay", "keyreg", "acfg", "axfer", "afrz", "appl")


def selector(signature: str) -> bytes:
    """First 4 bytes of SHA-512/256 of the signature (methods and events alike)."""
    return checksum(signature.encode())[:4]


def _types(signature: str) -> list[str]:
    """Argument types of a method or event signature (return type ignored)."""
    start = signature.index("(") + 1
    depth, begin, out = 0, start, []
    for i in range(start, len(signature)):
        ch = signature[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                if i > begin:
                    out.append(signature[begin:i])
                return out
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(signature[begin:i])
            begin = i + 1
    raise ValueError(f"unbalanced signature {signature!r}")


def encode_args(signature: str, args: Sequence[Any]) -> list[bytes]:
    """ARC-4 encode the non-transaction arguments of `signature`.

    Reference types (account/asset/application) must be passed already as
    their uint8 index into the foreign arrays.
    """
    out = []
    types = [t for t in _types(signature) if t not in TXN_TYPES]
    assert len(types) == len(args), f"{signature}: expected {len(types)} args, got {len(args)}"
    for type_str, value in zip(types, args):
        if type_str in ("account", "asset", "application"):
            out.append(bytes([value]))
        else:
            out.append(abi.ABIType.from_string(type_str).encode(value))
    return out


def method_call(
    sender: str,
    app_id: int,
    signature: str,
    args: Sequence[Any] = (),
    *,
    fee: int = 1000,
    on_complete: transaction.OnComplete = transaction.OnComplete.NoOpOC,
    accounts: Sequence[str] | None = None,
    foreign_assets: Sequence[int] | None = None,
    foreign_apps: Sequence[int] | None = None,
    boxes: Sequence[tuple[int, bytes]] | None = None,
    note: bytes | None = None,
    rekey_to: str | None = None,
    sp: transaction.SuggestedParams | None = None,
    **create_kwargs: Any,
) -> transaction.ApplicationCallTxn:
    from .jig import suggested_params

    params = sp or suggested_params(fee=fee)
    app_args = [selector(signature)] + encode_args(signature, args)
    if app_id == 0:
        return transaction.ApplicationCreateTxn(
            sender, params, on_complete, app_args=app_args, accounts=accounts,
            foreign_assets=foreign_assets, foreign_apps=foreign_apps, boxes=boxes,
            note=note, rekey_to=rekey_to, **create_kwargs,
        )
    return transaction.ApplicationCallTxn(
        sender, params, app_id, on_complete, app_args=app_args, accounts=accounts,
        foreign_assets=foreign_assets, foreign_apps=foreign_apps, boxes=boxes,
        note=note, rekey_to=rekey_to,
    )


def return_value(logs: Sequence[bytes], type_str: str) -> Any:
    """Decode the ARC-4 return value (the last log, prefixed 0x151f7c75)."""
    assert logs and logs[-1].startswith(RETURN_PREFIX), "no ARC-4 return value"
    return abi.ABIType.from_string(type_str).decode(logs[-1][4:])


@dataclass(frozen=True)
class Event:
    name: str
    values: dict[str, Any]


@dataclass(frozen=True)
class EventSpec:
    name: str
    args: tuple[tuple[str, str], ...]  # (arg name, ARC-4 type)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t in self.args)})"

    @property
    def selector(self) -> bytes:
        return selector(self.signature)

    def decode(self, payload: bytes) -> Event:
        tuple_type = abi.ABIType.from_string(f"({','.join(t for _, t in self.args)})")
        decoded = tuple_type.decode(payload)
        return Event(self.name, {n: v for (n, _), v in zip(self.args, decoded)})

    def encode(self, **values: Any) -> bytes:
        tuple_type = abi.ABIType.from_string(f"({','.join(t for _, t in self.args)})")
        return self.selector + tuple_type.encode([values[n] for n, _ in self.args])


def decode_events(logs: Sequence[bytes], specs: Sequence[EventSpec]) -> list[Event]:
    """Decode every log whose first 4 bytes match a known event selector."""
    by_selector = {s.selector: s for s in specs}
    out = []
    for log in logs:
        spec = by_selector.get(log[:4])
        if spec is not None and not log.startswith(RETURN_PREFIX):
            out.append(spec.decode(log[4:]))
    return out
