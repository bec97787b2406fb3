#!/usr/bin/env python3
"""Verify an accord signed envelope from its bytes alone, following docs/protocol.md.

Usage: verify_record.py ENVELOPE_HEX PUBLIC_KEY_HEX
  ENVELOPE_HEX    the envelope bytes (protocol.md section 4) in hex
  PUBLIC_KEY_HEX  the originator's registered agency key, 32 bytes in hex

Prints the record id and the record JSON and exits 0 when the envelope verifies; prints
`REJECTED: <reason>` and exits 1 otherwise. Needs Python 3 and the `cryptography` package.

It checks the layout (section 4), the key and signature rules of section 5 (keys and R of
small order or non-canonically encoded, S >= L) and the signature; for a delegated key (signer
kind 2) also the certificate of section 10: its signature under the agency key, that it names
the record's originator and the signing key, and the record's agreement, category and
creation time. It does not re-check canonical JSON or the record's fields, and it cannot know
of revocations: a node checks those against the revocations it holds.
"""
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOMAIN = b"accord/record/v1\x00"
DELEGATION_DOMAIN = b"accord/delegation/v1\x00"
MAX_RECORD = 65536
MAX_CERTIFICATE = 4096
L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
# The eight small-order points of edwards25519 in their canonical encodings (protocol.md
# section 5). A non-canonical encoding of one of them is caught by reducing it first.
SMALL_ORDER = {bytes.fromhex(h) for h in (
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
)}


def reduced(enc):
    """The encoding with y reduced mod p and the sign bit of x kept; for x = 0 (y = 1 or
    y = p - 1) the sign bit is cleared, as x = 0 has no sign."""
    y = (int.from_bytes(enc, "little") & ((1 << 255) - 1)) % P
    sign = enc[31] >> 7
    if y in (1, P - 1):
        sign = 0
    out = bytearray(y.to_bytes(32, "little"))
    out[31] |= sign << 7
    return bytes(out)


def key_problem(enc, what):
    """Why a point encoding is refused as a key or as R, or None."""
    if reduced(enc) in SMALL_ORDER:
        return "small-order " + what
    if reduced(enc) != enc:
        return "non-canonical " + what + " encoding"
    return None


def strict_verify(key, sig, message):
    """Section 5 step 5: Ed25519 with S < L and R and A not of small order (the library
    compares the encoding of [S]B - [k]A with R, which refuses a non-canonical R)."""
    problem = key_problem(key, "key")
    if problem:
        return problem
    if int.from_bytes(sig[32:], "little") >= L:
        return "S is not reduced (S >= L)"
    problem = key_problem(sig[:32], "R")
    if problem:
        return problem
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
    except (InvalidSignature, ValueError):
        return "signature does not verify"
    return None


def check_certificate(cert, cert_sig, agency_key, signer, record):
    """Section 10: the certificate of a delegated key, for this record."""
    problem = strict_verify(agency_key, cert_sig, DELEGATION_DOMAIN + cert)
    if problem:
        return "certificate: " + problem
    try:
        c = json.loads(cert)
        r = json.loads(record)
    except ValueError:
        return "certificate or record is not JSON"
    if c.get("agency") != r.get("originator"):
        return "the certificate is not the originator's"
    if c.get("delegate") != "ed25519:" + signer.hex():
        return "the certificate does not delegate the signing key"
    if r.get("agreement") not in c.get("agreements", []):
        return "agreement outside the delegation"
    if r.get("category") not in c.get("categories", []):
        return "category outside the delegation"
    # times have one fixed form (YYYY-MM-DDTHH:MM:SSZ), so they compare as text
    if not c.get("valid_from", "~") <= r.get("created", "") <= c.get("valid_until", ""):
        return "created outside the delegation's validity"
    return None


def parse(envelope):
    """(signer kind, signer key, signature, certificate, certificate signature, record) or a
    reason."""
    if len(envelope) < 106:
        return "envelope shorter than its 106-byte header"
    if envelope[:4] != b"ACRD":
        return "bad magic"
    if envelope[4] != 1:
        return "unsupported envelope version"
    kind = envelope[5]
    if kind not in (1, 2):
        return "unsupported signer kind"
    signer, sig = envelope[6:38], envelope[38:102]
    at, cert, cert_sig = 102, None, None
    if kind == 2:
        (m,) = struct.unpack(">H", envelope[at:at + 2])
        if m == 0 or m > MAX_CERTIFICATE or len(envelope) < at + 2 + m + 64 + 4:
            return "certificate length does not match"
        cert = envelope[at + 2:at + 2 + m]
        cert_sig = envelope[at + 2 + m:at + 2 + m + 64]
        at += 2 + m + 64
    (n,) = struct.unpack(">I", envelope[at:at + 4])
    record = envelope[at + 4:]
    if n == 0 or n > MAX_RECORD or len(record) != n:
        return "record length does not match"
    return kind, signer, sig, cert, cert_sig, record


def verify(envelope, key):
    """None when the envelope verifies under the agency key `key`, else the reason."""
    parsed = parse(envelope)
    if isinstance(parsed, str):
        return parsed
    kind, signer, sig, cert, cert_sig, record = parsed
    if kind == 1 and signer != key:
        return "the envelope is not signed with the originator's registered key"
    if kind == 2:
        problem = key_problem(signer, "key") or check_certificate(cert, cert_sig, key, signer, record)
        if problem:
            return problem
    return strict_verify(signer, sig, DOMAIN + record)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    envelope, key = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
    problem = verify(envelope, key)
    if problem:
        print("REJECTED: " + problem)
        return 1
    kind, signer = parse(envelope)[:2]
    record = parse(envelope)[5]
    print("id: " + hashlib.sha256(DOMAIN + record).hexdigest())
    if kind == 2:
        print("signed by: delegated key ed25519:" + signer.hex() + " (revocations not checked)")
    else:
        print("signed by: agency key ed25519:" + signer.hex())
    print("record: " + json.dumps(json.loads(record), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
