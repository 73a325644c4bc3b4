"""Deterministic test accounts (ed25519 keys derived from a label)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from algosdk import encoding
from nacl.signing import SigningKey


@dataclass(frozen=True)
class Account:
    label: str
    private_key: str  # algosdk format: base64(seed || public key)
    address: str

    @property
    def public_key(self) -> bytes:
        return encoding.decode_address(self.address)


def make_account(label: str) -> Account:
    """Same label, same key: tests stay reproducible."""
    seed = hashlib.sha256(b"bitfox-test-account:" + label.encode()).digest()
    signing_key = SigningKey(seed)
    public = bytes(signing_key.verify_key)
    private = base64.b64encode(seed + public).decode()
    return Account(label, private, encoding.encode_address(public))
