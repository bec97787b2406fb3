#!/usr/bin/env python3
"""Verify an accord signed envelope from its bytes alone, following docs/protocol.md.

Usage: verify_record.py ENVELOPE_HEX PUBLIC_KEY_HEX
  ENVELOPE_HEX    the envelope bytes (protocol.md section 4) in hex
  PUBLIC_KEY_HEX  the originator's registered agency key, 32 bytes in hex

Prints the record id and the record JSON and exits 0 when the envelope verifies; prints the
reason and exits 1 otherwise. Needs Python 3 and the `cryptography` package. It checks the
layout, the key and signature rules of section 5 (small-order R and A, S < L) and the
signature; it does not re-check canonical JSON or the record's fields.
"""
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOMAIN = b"accord/record/v1\x00"
L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
# The eight small-order points of edwards25519 (canonical encodings), and the two whose x = 0
# written with the sign bit set, which some decoders accept.
SMALL_ORDER = {bytes.fromhex(h) for h in (
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
)}


def canonical_point(enc):
    """The encoding with y reduced mod p and the sign bit kept."""
    y = int.from_bytes(enc, "little") & ((1 << 255) - 1)
    sign = enc[31] >> 7
    y %= P
    out = bytearray(y.to_bytes(32, "little"))
    out[31] |= sign << 7
    return bytes(out)


def small_order(enc):
    return canonical_point(enc) in SMALL_ORDER


def verify(envelope, key):
    if len(envelope) < 106:
        return "envelope shorter than its 106-byte header"
    if envelope[:4] != b"ACRD":
        return "bad magic"
    if envelope[4] != 1 or envelope[5] != 1:
        return "unsupported envelope version or signer kind"
    signer, sig = envelope[6:38], envelope[38:102]
    (n,) = struct.unpack(">I", envelope[102:106])
    record = envelope[106:]
    if n == 0 or n > 65536 or len(record) != n:
        return "record length does not match"
    if signer != key:
        return "the envelope is not signed with the originator's registered key"
    if canonical_point(key) != key:
        return "non-canonical key encoding"
    if small_order(key):
        return "small-order key"
    r, s = sig[:32], int.from_bytes(sig[32:], "little")
    if s >= L:
        return "S is not reduced (S >= L)"
    if small_order(r):
        return "small-order R"
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, DOMAIN + record)
    except InvalidSignature:
        return "signature does not verify"
    return None


def main():
    envelope, key = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
    problem = verify(envelope, key)
    if problem:
        print("REJECTED: " + problem)
        return 1
    record = envelope[106:]
    print("id: " + hashlib.sha256(DOMAIN + record).hexdigest())
    print("record: " + json.dumps(json.loads(record), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
