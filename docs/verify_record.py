#!/usr/bin/env python3
"""Verify an accord signed envelope from its bytes alone, following docs/protocol.md.

Usage: verify_record.py ENVELOPE_HEX PUBLIC_KEY_HEX
  ENVELOPE_HEX    the envelope bytes (protocol.md section 4) in hex
  PUBLIC_KEY_HEX  the originator's registered agency key, 32 bytes in hex

Prints the record id and the record JSON and exits 0 when the envelope verifies; prints
`REJECTED: <reason>` and exits 1 otherwise. Needs Python 3 and the `cryptography` package.

It checks the layout (section 4, envelope versions 1 and 2), the key and signature rules of
section 5 (keys and R of small order or non-canonically encoded, S >= L) and the signature; for
a delegated key (signer kind 2) also the certificate of section 10: its signature under the
agency key, that it names the record's originator and the signing key, that it is an officer's
(a releaser's key signs no record), and the record's agreement, category and creation time.
For an envelope of version 2 (two-person release, section 13) it checks every approval it
carries by the six steps of section 13: the approval canonical, at most 512 bytes, `v` 1, for
this record and its agreement; the releaser's certificate canonical, the originator's, signed
by the agency key, with `role` "releaser"; its key neither the record's signer nor an earlier
approval's releaser; the record's agreement, category and handling code within it; `approved`
within its validity and not before the record's `created`; the approval's signature under the
releaser's key. It prints one `approved by:` line per approval.

It does not re-check canonical JSON or the record's fields (the approvals and releasers'
certificates are checked for canonical form, as section 13 asks), and it cannot know of
revocations, neither of an officer's certificate nor of a releaser's: a node checks those
against the revocations it holds. Nor does it hold the agreement, so it does not check whether
the agreement's `[release]` clause requires approvals for this record, or how many: it checks
the approvals the envelope carries, whatever their number.
"""
import hashlib
import json
import re
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOMAIN = b"accord/record/v1\x00"
DELEGATION_DOMAIN = b"accord/delegation/v1\x00"
APPROVAL_DOMAIN = b"accord/approval/v1\x00"
MAX_RECORD = 65536
MAX_CERTIFICATE = 4096
MAX_APPROVAL = 512
MAX_APPROVALS = 4
HANDLING = ("H0", "H1", "H2", "H3")
TIME_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
KEY_RE = re.compile(r"\Aed25519:([0-9a-f]{64})\Z")
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


def _refuse_constant(name):
    raise ValueError(name + " is not JSON")


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError("duplicate member " + k)
        obj[k] = v
    return obj


def _canonical_text(value):
    """RFC 8785 canonical JSON of a parsed value as section 2 restricts it (no floats)."""
    if value is True or value is False or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        if abs(value) >= 2**53:
            raise ValueError("integer out of range")
        return str(value)
    if isinstance(value, str):
        out = ['"']
        for ch in value:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ch in "\b\f\n\r\t":
                out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
            elif ord(ch) < 0x20:
                out.append("\\u%04x" % ord(ch))
            else:
                out.append(ch)
        return "".join(out) + '"'
    if isinstance(value, list):
        return "[" + ",".join(_canonical_text(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_canonical_text(k) + ":" + _canonical_text(value[k])
                              for k in keys) + "}"
    raise ValueError("not an accord JSON value")


def canonical_object(data, what):
    """(object, None) when `data` is the canonical JSON of an object (section 2), else
    (None, why not)."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates,
                           parse_constant=_refuse_constant)
        if not isinstance(value, dict):
            return None, what + " is not a JSON object"
        if _canonical_text(value).encode("utf-8") != data:
            return None, what + " is not canonical JSON"
    except (ValueError, UnicodeError):
        return None, what + " is not canonical JSON"
    return value, None


def is_time(v):
    return isinstance(v, str) and bool(TIME_RE.match(v))


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
    if not isinstance(c, dict) or not isinstance(r, dict):
        return "certificate or record is not a JSON object"
    if c.get("agency") != r.get("originator"):
        return "the certificate is not the originator's"
    if c.get("delegate") != "ed25519:" + signer.hex():
        return "the certificate does not delegate the signing key"
    # section 10: an officer's certificate has neither `role` nor `handling`
    if c.get("role") == "releaser":
        return "the certificate is a releaser's: a releaser's key signs no record"
    if "role" in c or "handling" in c:
        return "the certificate is not an officer's (it has `role` or `handling`)"
    if r.get("agreement") not in c.get("agreements", []):
        return "agreement outside the delegation"
    if r.get("category") not in c.get("categories", []):
        return "category outside the delegation"
    # times have one fixed form (YYYY-MM-DDTHH:MM:SSZ), so they compare as text
    if not c.get("valid_from", "~") <= r.get("created", "") <= c.get("valid_until", ""):
        return "created outside the delegation's validity"
    return None


def check_approval(approval, approval_sig, cert, cert_sig, agency_key, signer, record,
                   earlier):
    """Section 13 steps 1 to 6 for one approval; `earlier` holds the releasers' keys of the
    approvals before it in the envelope. (reason or None, certificate or None, approval or
    None); revocations cannot be checked here."""
    try:
        r = json.loads(record)
    except ValueError:
        return "the record is not JSON", None, None
    if not isinstance(r, dict):
        return "the record is not a JSON object", None, None
    rid = hashlib.sha256(DOMAIN + record).hexdigest()
    # step 1: the approval
    a, problem = canonical_object(approval, "the approval")
    if problem:
        return problem, None, None
    if set(a) != {"v", "record", "agreement", "approved"}:
        return "the approval does not have exactly v, record, agreement, approved", None, None
    if a["v"] != 1 or isinstance(a["v"], bool):
        return "the approval's v is not 1", None, None
    if not is_time(a["approved"]):
        return "the approval's approved is not a time", None, a
    if a["record"] != rid:
        return "the approval is for record %s, not this one" % str(a["record"])[:64], None, a
    if a["agreement"] != r.get("agreement"):
        return "the approval is for another agreement than the record's", None, a
    # step 2: the releaser's certificate
    c, problem = canonical_object(cert, "the releaser's certificate")
    if problem:
        return problem, None, a
    if c.get("agency") != r.get("originator"):
        return "the releaser's certificate is not the originator's", c, a
    problem = strict_verify(agency_key, cert_sig, DELEGATION_DOMAIN + cert)
    if problem:
        return "the releaser's certificate: " + problem, c, a
    if c.get("role") != "releaser":
        return "the certificate is not a releaser's", c, a
    if not (isinstance(c.get("holder"), str) and c["holder"]):
        return "the releaser's certificate has no holder", c, a
    handling = c.get("handling")
    if not (isinstance(handling, list) and handling and all(h in HANDLING for h in handling)
            and handling == sorted(set(handling), key=HANDLING.index)):
        return "the releaser's certificate's handling is not a sorted list of H0-H3", c, a
    m = KEY_RE.match(c.get("delegate")) if isinstance(c.get("delegate"), str) else None
    if not m:
        return "the releaser's certificate's delegate is not ed25519: and 64 hex digits", c, a
    releaser = bytes.fromhex(m.group(1))
    if releaser == agency_key:
        return "the releaser's certificate delegates to the agency key itself", c, a
    # step 3: not the record's signer, not a releaser twice
    if releaser == signer:
        return "the releaser is the key that signed the record", c, a
    if releaser in earlier:
        return "the releaser approved the record twice", c, a
    # step 4: the record within the certificate
    if r.get("agreement") not in (c.get("agreements") or []):
        return "agreement outside the releaser's certificate", c, a
    if r.get("category") not in (c.get("categories") or []):
        return "category outside the releaser's certificate", c, a
    if r.get("handling") not in handling:
        return "handling code outside the releaser's certificate", c, a
    # step 5: when (times have one fixed form, so they compare as text)
    if not (is_time(c.get("valid_from")) and is_time(c.get("valid_until"))
            and c["valid_from"] <= a["approved"] <= c["valid_until"]):
        return "approved outside the releaser's certificate's validity", c, a
    if a["approved"] < r.get("created", ""):
        return "approved before the record was created", c, a
    # step 6: the releaser's signature
    problem = strict_verify(releaser, approval_sig, APPROVAL_DOMAIN + approval)
    if problem:
        return "approval signature: " + problem, c, a
    return None, c, a


def parse_approvals(data):
    """The approvals section of a version-2 envelope (section 4): a list of (approval,
    approval signature, certificate, certificate signature), or a reason."""
    if not data:
        return "envelope version 2 but no approvals follow the record"
    k = data[0]
    if not 1 <= k <= MAX_APPROVALS:
        return "approval count %d is not 1 to 4" % k
    at, out = 1, []
    for i in range(1, k + 1):
        if len(data) < at + 2:
            return "approval %d: the envelope ends inside it" % i
        (a,) = struct.unpack(">H", data[at:at + 2])
        if a == 0 or a > MAX_APPROVAL:
            return "approval %d: approval length %d is not 1 to 512" % (i, a)
        if len(data) < at + 2 + a + 64 + 2:
            return "approval %d: the envelope ends inside it" % i
        approval = data[at + 2:at + 2 + a]
        approval_sig = data[at + 2 + a:at + 2 + a + 64]
        at += 2 + a + 64
        (c,) = struct.unpack(">H", data[at:at + 2])
        if c == 0 or c > MAX_CERTIFICATE:
            return "approval %d: certificate length %d is not 1 to 4096" % (i, c)
        if len(data) < at + 2 + c + 64:
            return "approval %d: the envelope ends inside it" % i
        cert = data[at + 2:at + 2 + c]
        cert_sig = data[at + 2 + c:at + 2 + c + 64]
        at += 2 + c + 64
        out.append((approval, approval_sig, cert, cert_sig))
    if at != len(data):
        return "bytes follow the approvals"
    return out


def parse(envelope):
    """(signer kind, signer key, signature, certificate, certificate signature, record,
    approvals) or a reason; approvals is None for version 1."""
    if len(envelope) < 106:
        return "envelope shorter than its 106-byte header"
    if envelope[:4] != b"ACRD":
        return "bad magic"
    version = envelope[4]
    if version not in (1, 2):
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
    rest = envelope[at + 4:]
    if version == 1:
        # nothing may follow the record
        if n == 0 or n > MAX_RECORD or len(rest) != n:
            return "record length does not match"
        return kind, signer, sig, cert, cert_sig, rest, None
    if n == 0 or n > MAX_RECORD or len(rest) < n:
        return "record length does not match"
    approvals = parse_approvals(rest[n:])
    if isinstance(approvals, str):
        return approvals
    return kind, signer, sig, cert, cert_sig, rest[:n], approvals


def verify(envelope, key):
    """None when the envelope verifies under the agency key `key`, else the reason."""
    parsed = parse(envelope)
    if isinstance(parsed, str):
        return parsed
    kind, signer, sig, cert, cert_sig, record, approvals = parsed
    if kind == 1 and signer != key:
        return "the envelope is not signed with the originator's registered key"
    if kind == 2:
        problem = key_problem(signer, "key") or check_certificate(cert, cert_sig, key, signer, record)
        if problem:
            return problem
    # section 13: every approval carried, after section 5 step 4
    earlier = set()
    for i, (approval, approval_sig, a_cert, a_cert_sig) in enumerate(approvals or [], 1):
        problem, c, _ = check_approval(approval, approval_sig, a_cert, a_cert_sig, key, signer,
                                       record, earlier)
        if problem:
            return "approval %d: %s" % (i, problem)
        earlier.add(bytes.fromhex(c["delegate"][len("ed25519:"):]))
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
    kind, signer, _, _, _, record, approvals = parse(envelope)
    print("id: " + hashlib.sha256(DOMAIN + record).hexdigest())
    if kind == 2:
        print("signed by: delegated key ed25519:" + signer.hex() + " (revocations not checked)")
    else:
        print("signed by: agency key ed25519:" + signer.hex())
    for approval, _, cert, _ in approvals or []:
        a, c = json.loads(approval), json.loads(cert)
        print("approved by: %s (certificate %s) at %s" % (
            c["holder"], hashlib.sha256(DELEGATION_DOMAIN + cert).hexdigest(), a["approved"]))
    print("record: " + json.dumps(json.loads(record), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
