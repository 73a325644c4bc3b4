"""Schemathesis hooks for the BitFox API (loaded by scripts/fuzz-api via SCHEMATHESIS_HOOKS).

The OpenAPI document gives every Algorand address the `algorand-address` format: 58
upper-case base32 characters (its pattern) whose last four bytes are the SHA-512/256
checksum of the first 32, which no regular expression can say. This teaches schemathesis
the format, so the addresses it generates as valid are valid.
"""

import base64
import hashlib

import schemathesis
from hypothesis import strategies as st


def algorand_address(public_key: bytes) -> str:
    """The address of a 32-byte public key: base32 of the key and its checksum, unpadded."""
    checksum = hashlib.new("sha512_256", public_key).digest()[-4:]
    return base64.b32encode(public_key + checksum).decode("ascii").rstrip("=")


schemathesis.openapi.format(
    "algorand-address", st.binary(min_size=32, max_size=32).map(algorand_address)
)
