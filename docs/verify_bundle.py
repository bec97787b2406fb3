#!/usr/bin/env python3
"""Verify an accord bundle offline, from the documentation alone.

Usage: verify_bundle.py BUNDLE_FILE

Needs Python 3.11 or later (for `tomllib`) and the `cryptography` package (Ed25519). It was
written from docs/bundle.md, docs/protocol.md, docs/records.md and docs/model-mou.md, without
the accord source, and applies the rules of docs/bundle.md "What `accord verify` checks, in
this order":

 1. the lines (bundle.md "Format, version 2"): at most 1 MiB, not empty, LF not CR LF, a JSON
    object whose `type` is one of the eight, exactly the members of its type with the types
    stated, beginning with `{"type":`, in the order of the table;
 2. the header: version 1 or 2 (bundle.md "Version 1"), and no line kind the version lacks;
 3. the agreement: base64, SHA-256, a valid agreement TOML (bundle.md §2, model-mou.md) that
    defines the header's agreement;
 4. the keys (bundle.md §3, protocol.md §5 key rules): one per member, sorted, no repeats;
 5. the key histories from rotation lines (bundle.md §4, protocol.md §11): signatures,
    canonical statements, attestations, chaining;
 6. the agreement signatures (bundle.md §2, protocol.md §8) under any key of each history;
 7. the revocations (bundle.md §5, protocol.md §10);
 8. the header's counts;
 9. the bundle signature (bundle.md §8, version 2);
10. each record (bundle.md §6): envelope layout (protocol.md §4, versions 1 and 2), id (§3),
    a valid record in canonical form (§1, §2), strict Ed25519 (§5, with the small-order,
    non-canonical and S >= L checks that `cryptography` alone does not make, as
    docs/verify_record.py does) under the key in force at `created`, or for a delegated key
    (signer kind 2) its certificate under the key in force at `issued` and the checks of §10,
    revocations included (an officer's certificate: a releaser's key signs no record); for an
    envelope of version 2, each releaser's approval by the six steps of protocol.md §13, the
    releaser's certificate under the key in force at its `issued` time and the revocations
    applied to the approval's `approved` time; then the policy at `created` (member, in
    force, category, handling, victim data, no person both victim and offender, not expired:
    bundle.md step 10.5, records.md) and, when the agreement's `[release]` clause covers the
    record, at least `approvals` approvals that passed;
11. the tombstones (bundle.md §7);
12. one record per (stream, seq): equivocation, tombstones (protocol.md §6 stream ids);
13. each stream's sequence from 1 without gaps.

It prints one line per bundle problem (`BUNDLE line N: ...`), per record (`OK  ...` /
`FAIL ...`, followed by one `     approved by ...` line per approval its envelope carries) and
per gap (`GAP  ...`), and a summary ending in `bundle verified` or
`bundle FAILED`. Exit code 0 when verified, 1 when failed, 2 on a usage error, 3 when it
cannot work at all (the file cannot be read, or Python lacks tomllib or `cryptography`), as
docs/operations.md §12 gives the exit codes of every accord command.
"""
import base64
import binascii
import datetime
import hashlib
import json
import re
import struct
import sys

try:
    import tomllib
except ImportError:  # Python before 3.11
    tomllib = None

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # reported in main()
    Ed25519PublicKey = None
    InvalidSignature = Exception

# ---------------------------------------------------------------------------------------------
# Constants (protocol.md §1, §3, §4, §8, §10, §11; bundle.md)

RECORD_DOMAIN = b"accord/record/v1\x00"
DELEGATION_DOMAIN = b"accord/delegation/v1\x00"
APPROVAL_DOMAIN = b"accord/approval/v1\x00"
REVOCATION_DOMAIN = b"accord/revocation/v1\x00"
ROTATION_DOMAIN = b"accord/key-rotation/v1\x00"
AGREEMENT_DOMAIN = b"accord/agreement/v1\x00"
BUNDLE_DOMAIN = b"accord/bundle/v2\x00"

MAX_LINE = 1024 * 1024
MAX_RECORD = 65536
MAX_CERTIFICATE = 4096
MAX_APPROVAL = 512
MAX_APPROVALS = 4
MAX_STATEMENT = 4096
MAX_SEQ = 2**64 - 1

L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P

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

CATEGORIES = (
    "smuggling-network", "route", "vessel", "travel-document", "financial", "communication",
    "modus-operandi", "alert", "victim-identification", "return-coordination",
    "request-for-information", "response",
)
HANDLING = ("H0", "H1", "H2", "H3")
PURPOSES = ("identification", "protection", "return", "investigation")
RETURN_STATUS = ("identified", "protected", "travel-documents-requested", "documents-issued",
                 "returned", "closed")
ROLES = ("suspect", "facilitator", "victim", "witness")
OFFENDER_ROLES = ("suspect", "facilitator")
DOCUMENT_KINDS = ("passport", "identity-card", "visa", "residence-permit", "other")
ASSESSMENTS = ("genuine", "forged", "counterfeit", "fraudulently-obtained", "impostor", "unknown")
LEG_ROLES = ("source", "transit", "destination")
IDENTIFYING = ("name", "aliases", "date_of_birth", "place_of_birth", "documents")
ONWARD = ("never", "with-originator-consent", "permitted")

# Assigned ISO 3166-1 alpha-2 codes (protocol.md §1 says "assigned" without listing them).
COUNTRIES = set("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW""".split())

TIME_RE = re.compile(r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z\Z")
DATE_RE = re.compile(r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
HEX64_RE = re.compile(r"\A[0-9a-f]{64}\Z")
HEX128_RE = re.compile(r"\A[0-9a-f]{128}\Z")
AGENCY_RE = re.compile(r"\A([A-Z]{2})-[A-Z0-9]{1,16}\Z")
AGREEMENT_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
SEQ_RE = re.compile(r"\A[1-9][0-9]*\Z")
STREAM_RE = re.compile(r"\A([A-Z]{2}-[A-Z0-9]{1,16})(/[0-9a-f]{16})?\Z")
KEY_RE = re.compile(r"\Aed25519:([0-9a-f]{64})\Z")

# The bundle's line kinds, in their order, with their members and the members' types
# (bundle.md "Format, version 2" and sections 1 to 8; "Version 1").
STR, INT, LIST, STR_OR_NULL = "a string", "an integer", "an array", "a string or null"
TIME = "a time YYYY-MM-DDTHH:MM:SSZ"
LINE_KINDS = ("accord-bundle", "agreement", "key", "rotation", "revocation", "record",
              "tombstone", "signature")
KIND_NAME = {"accord-bundle": "header"}
MEMBERS = {
    "accord-bundle": {"version": INT, "agreement": STR, "exported_by": STR, "exported_at": TIME,
                      "records": INT, "tombstones": INT, "rotations": INT, "revocations": INT},
    "agreement": {"sha256": STR, "file": STR, "signatures": LIST},
    "key": {"agency": STR, "public_key": STR},
    "rotation": {"statement": STR, "previous_signature": STR_OR_NULL, "key_signature": STR,
                 "attestations": LIST},
    "revocation": {"revocation": STR, "signature": STR},
    "record": {"id": STR, "envelope": STR},
    "tombstone": {"id": STR, "agreement": STR, "originator": STR, "seq": STR, "stream": STR,
                  "envelope_sha256": STR, "purged_at": TIME, "reason": STR},
    "signature": {"agency": STR, "sha256": STR, "signature": STR},
}
# Members a version-1 bundle lacks. They are optional there, not refused: `accord verify`
# accepts them (a v1 header's `rotations`/`revocations` are then ignored, a v1 tombstone's
# `stream` is used), and so does this script.
V1_ABSENT = {"accord-bundle": ("rotations", "revocations"), "tombstone": ("stream",)}


def kind_name(t):
    return KIND_NAME.get(t, t)


# ---------------------------------------------------------------------------------------------
# Ed25519, strict (protocol.md §5)

def reduced(enc):
    """The encoding with y reduced mod p; for x = 0 (y = 1 or p - 1) the sign bit cleared."""
    y = (int.from_bytes(enc, "little") & ((1 << 255) - 1)) % P
    sign = enc[31] >> 7
    if y in (1, P - 1):
        sign = 0
    out = bytearray(y.to_bytes(32, "little"))
    out[31] |= sign << 7
    return bytes(out)


def is_point(enc):
    """Whether the 32 bytes decode to a point of edwards25519 (x^2 = (y^2-1)/(d y^2+1))."""
    y = (int.from_bytes(enc, "little") & ((1 << 255) - 1)) % P
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x2 = u * pow(v, P - 2, P) % P
    if x2 == 0:
        return True
    return pow(x2, (P - 1) // 2, P) == 1


def key_problem(enc, what="key"):
    """Why a point encoding is refused as a key (or as R), or None (protocol.md §5 step 2)."""
    if len(enc) != 32:
        return what + " is not 32 bytes"
    if reduced(enc) in SMALL_ORDER:
        return "small-order " + what
    if reduced(enc) != enc:
        return "non-canonical " + what + " encoding"
    if not is_point(enc):
        return what + " is not a point of edwards25519"
    return None


def strict_verify(key, sig, message):
    """None when `sig` is a strict Ed25519 signature of `message` by `key`, else why not."""
    problem = key_problem(key, "key")
    if problem:
        return problem
    if len(sig) != 64:
        return "signature is not 64 bytes"
    if int.from_bytes(sig[32:], "little") >= L:
        return "S is not reduced (S >= L)"
    problem = key_problem(sig[:32], "R")
    if problem:
        return problem
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
    except (InvalidSignature, ValueError):
        return "signature does not verify (strict ed25519)"
    return None


def parse_key(text):
    """(32 key bytes, None) from `ed25519:<64 hex>`, or (None, why not)."""
    if not isinstance(text, str):
        return None, "a key is not a string"
    m = KEY_RE.match(text)
    if not m:
        return None, "`%s` is not `ed25519:` and 64 lower-case hex digits" % short(text)
    key = bytes.fromhex(m.group(1))
    problem = key_problem(key)
    if problem:
        return None, "`%s`: %s" % (short(text), problem)
    return key, None


def hex_sig(text):
    """64 signature bytes from 128 lower-case hex digits, or None."""
    if isinstance(text, str) and HEX128_RE.match(text):
        return bytes.fromhex(text)
    return None


# ---------------------------------------------------------------------------------------------
# JSON: strict parsing and canonical form (protocol.md §2, RFC 8785)

class JsonError(ValueError):
    pass


def _pairs(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise JsonError("duplicate member `%s`" % k)
        obj[k] = v
    return obj


def _constant(name):
    raise JsonError("%s is not JSON" % name)


def parse_json(data):
    """Parse UTF-8 JSON bytes strictly: no duplicate members, no NaN/Infinity, no lone
    surrogates. Raises ValueError (incl. JsonError, UnicodeError) when it is not."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    _check_strings(value)
    return value


def _check_strings(value):
    if isinstance(value, str):
        value.encode("utf-8")  # raises on a lone surrogate
    elif isinstance(value, list):
        for v in value:
            _check_strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


def _canon_str(s):
    out = ['"']
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canonical(value):
    """RFC 8785 canonical JSON text of a parsed value (integers only, |n| < 2^53)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if abs(value) >= 2**53:
            raise JsonError("integer out of range")
        return str(value)
    if isinstance(value, float):
        raise JsonError("a number that is not an integer")
    if isinstance(value, str):
        return _canon_str(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_canon_str(k) + ":" + canonical(value[k]) for k in keys) + "}"
    raise JsonError("not a JSON value")


def parse_canonical(data, what):
    """(value, None) when `data` is exactly the canonical JSON of an object, else (value or
    None, why not)."""
    try:
        value = parse_json(data)
    except (ValueError, UnicodeError) as e:
        return None, "%s is not JSON: %s" % (what, e)
    if not isinstance(value, dict):
        return value, "%s is not a JSON object" % what
    try:
        if canonical(value).encode("utf-8") != bytes(data):
            return value, "%s is not in canonical form (protocol.md §2)" % what
    except (ValueError, UnicodeError) as e:
        return value, "%s is not in canonical form: %s" % (what, e)
    return value, None


# ---------------------------------------------------------------------------------------------
# Small value checks

def short(text, n=24):
    text = str(text)
    return text if len(text) <= n else text[:n] + "…"


def is_time(v):
    """`YYYY-MM-DDTHH:MM:SSZ`, a real UTC time (protocol.md §1)."""
    if not isinstance(v, str):
        return False
    m = TIME_RE.match(v)
    if not m:
        return False
    try:
        datetime.datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return False
    return True


def epoch(t):
    m = TIME_RE.match(t)
    dt = datetime.datetime(*(int(g) for g in m.groups()), tzinfo=datetime.timezone.utc)
    return int(dt.timestamp())


def is_date(v):
    if not isinstance(v, str) or not DATE_RE.match(v):
        return False
    try:
        datetime.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def is_birth_date(v):
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD`."""
    if not isinstance(v, str):
        return False
    if re.fullmatch(r"[0-9]{4}", v):
        return True
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}", v):
        return 1 <= int(v[5:]) <= 12
    return is_date(v)


def is_agency(v):
    if not isinstance(v, str):
        return False
    m = AGENCY_RE.match(v)
    return bool(m) and m.group(1) in COUNTRIES


def is_country(v):
    return isinstance(v, str) and v in COUNTRIES


def is_agreement_id(v):
    return isinstance(v, str) and bool(AGREEMENT_RE.match(v))


def seq_value(v):
    """The integer of a decimal seq string (no leading zeros, 1 to 2^64-1), or None."""
    if isinstance(v, str) and SEQ_RE.match(v) and len(v) <= 20:
        n = int(v)
        if n <= MAX_SEQ:
            return n
    return None


def text_problem(v, limit=1024):
    """Why a text field is not valid (protocol.md §1 "Text fields"), or None."""
    if not isinstance(v, str):
        return "is not a string"
    if v == "":
        return "is empty"
    if v != v.strip():
        return "has leading or trailing whitespace"
    for ch in v:
        if ch not in "\n\t" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0):
            return "holds a control character"
    if len(v.encode("utf-8")) > limit:
        return "is longer than %d bytes" % limit
    return None


def b64decode(text):
    """Standard base64 with padding (RFC 4648 §4), or None."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) \
            or len(text) % 4:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# The record (protocol.md §1)

RECORD_FIELDS = ("v", "originator", "agreement", "seq", "category", "handling",
                 "handling_restriction", "grading", "created", "expires", "subjects", "route",
                 "summary", "victim_data_purpose", "corrects", "withdraws", "responds_to",
                 "addressed_to", "return_status")
RECORD_REQUIRED = ("v", "originator", "agreement", "seq", "category", "handling", "grading",
                   "created", "summary")
SUBJECT_FIELDS = {
    "person": ("role", "ref", "name", "aliases", "date_of_birth", "place_of_birth",
               "nationality", "documents", "description"),
    "organisation": ("name", "aliases", "country", "description"),
    "vessel": ("name", "imo", "mmsi", "flag", "description"),
    "vehicle": ("registration", "description", "country"),
    "phone": ("number", "description"),
    "account": ("identifier", "institution", "country", "holder"),
    "travel-document": ("kind", "number", "issuing_country", "holder", "assessment"),
}
SUBJECT_REQUIRED = {
    "person": ("role",), "organisation": ("name",), "vessel": (), "vehicle": (),
    "phone": ("number",), "account": ("identifier",),
    "travel-document": ("kind", "number", "issuing_country"),
}
SUBJECT_TEXT = ("ref", "name", "place_of_birth", "description", "registration", "identifier",
                "institution", "holder")


def _text_list(errs, where, v):
    if not isinstance(v, list) or not v:
        errs.append("%s is not a non-empty array" % where)
        return
    for i, a in enumerate(v):
        p = text_problem(a)
        if p:
            errs.append("%s[%d] %s" % (where, i, p))


def validate_subject(i, s, errs):
    where = "subjects[%d]" % i
    if not isinstance(s, dict):
        errs.append(where + " is not an object")
        return
    t = s.get("type")
    if t not in SUBJECT_FIELDS:
        errs.append("%s has an unknown type %r" % (where, t))
        return
    for k in s:
        if k != "type" and k not in SUBJECT_FIELDS[t]:
            errs.append("%s (%s) has an unknown field `%s`" % (where, t, k))
    for k in SUBJECT_REQUIRED[t]:
        if k not in s:
            errs.append("%s (%s) lacks `%s`" % (where, t, k))
    for k in SUBJECT_TEXT:
        if k in s and k in SUBJECT_FIELDS[t]:
            p = text_problem(s[k])
            if p:
                errs.append("%s.%s %s" % (where, k, p))
    if "aliases" in s:
        _text_list(errs, where + ".aliases", s["aliases"])
    for k in ("nationality", "country", "flag"):
        if k in s and k in SUBJECT_FIELDS[t] and not is_country(s[k]):
            errs.append("%s.%s is not an assigned ISO 3166-1 alpha-2 code" % (where, k))
    if t == "person":
        if "role" in s and s["role"] not in ROLES:
            errs.append("%s.role is not one of %s" % (where, ", ".join(ROLES)))
        if "date_of_birth" in s and not is_birth_date(s["date_of_birth"]):
            errs.append("%s.date_of_birth is not YYYY, YYYY-MM or YYYY-MM-DD" % where)
        if "documents" in s:
            docs = s["documents"]
            if not isinstance(docs, list) or not docs:
                errs.append(where + ".documents is not a non-empty array")
            else:
                for j, d in enumerate(docs):
                    dw = "%s.documents[%d]" % (where, j)
                    if not isinstance(d, dict) or set(d) != {"kind", "number", "issuing_country"}:
                        errs.append(dw + " is not {kind, number, issuing_country}")
                        continue
                    if d["kind"] not in DOCUMENT_KINDS:
                        errs.append(dw + ".kind is not a document kind")
                    p = text_problem(d["number"])
                    if p:
                        errs.append(dw + ".number " + p)
                    if not is_country(d["issuing_country"]):
                        errs.append(dw + ".issuing_country is not an assigned country code")
    elif t == "vessel":
        if not any(k in s for k in ("name", "imo", "mmsi")):
            errs.append(where + " (vessel) has none of name, imo, mmsi")
        if "imo" in s and not (isinstance(s["imo"], str) and re.fullmatch(r"[0-9]{7}", s["imo"])):
            errs.append(where + ".imo is not 7 digits")
        if "mmsi" in s and not (isinstance(s["mmsi"], str)
                                and re.fullmatch(r"[0-9]{9}", s["mmsi"])):
            errs.append(where + ".mmsi is not 9 digits")
    elif t == "vehicle":
        if not any(k in s for k in ("registration", "description")):
            errs.append(where + " (vehicle) has neither registration nor description")
    elif t == "phone":
        if "number" in s and not (isinstance(s["number"], str)
                                  and re.fullmatch(r"\+[0-9]{8,15}", s["number"])):
            errs.append(where + ".number is not E.164")
    elif t == "travel-document":
        if "kind" in s and s["kind"] not in DOCUMENT_KINDS:
            errs.append(where + ".kind is not a document kind")
        p = text_problem(s.get("number"))
        if "number" in s and p:
            errs.append(where + ".number " + p)
        if "issuing_country" in s and not is_country(s["issuing_country"]):
            errs.append(where + ".issuing_country is not an assigned country code")
        if "assessment" in s and s["assessment"] not in ASSESSMENTS:
            errs.append(where + ".assessment is not an assessment")


def victim_identified(r):
    """Whether a victim subject carries an identifying field."""
    for s in r.get("subjects") or []:
        if isinstance(s, dict) and s.get("type") == "person" and s.get("role") == "victim":
            if any(k in s for k in IDENTIFYING):
                return True
    return False


def validate_record(r):
    """Every problem of a parsed record (protocol.md §1), as a list of texts."""
    errs = []
    for k in r:
        if k not in RECORD_FIELDS:
            errs.append("unknown field `%s`" % k)
    for k in RECORD_REQUIRED:
        if k not in r:
            errs.append("missing field `%s`" % k)
    if "v" in r and (r["v"] != 1 or isinstance(r["v"], bool)):
        errs.append("`v` is not 1")
    if "originator" in r and not is_agency(r["originator"]):
        errs.append("`originator` is not an agency id")
    if "agreement" in r and not is_agreement_id(r["agreement"]):
        errs.append("`agreement` is not an agreement id")
    if "seq" in r and seq_value(r["seq"]) is None:
        errs.append("`seq` is not a decimal string from 1 to 2^64-1")
    cat = r.get("category")
    if "category" in r and cat not in CATEGORIES:
        errs.append("`category` is not a record category")
    if "handling" in r and r["handling"] not in HANDLING:
        errs.append("`handling` is not H0-H3")
    if ("handling_restriction" in r) != (r.get("handling") == "H3"):
        errs.append("`handling_restriction` must be present exactly when `handling` is H3")
    if "handling_restriction" in r:
        p = text_problem(r["handling_restriction"])
        if p:
            errs.append("`handling_restriction` " + p)
    if "grading" in r and not (isinstance(r["grading"], str)
                               and re.fullmatch(r"[ABCX][1-4]", r["grading"])):
        errs.append("`grading` is not A/B/C/X and 1-4")
    if "created" in r and not is_time(r["created"]):
        errs.append("`created` is not a time YYYY-MM-DDTHH:MM:SSZ")
    if "expires" in r:
        if not is_time(r["expires"]):
            errs.append("`expires` is not a time")
        elif is_time(r.get("created")) and not r["expires"] > r["created"]:
            errs.append("`expires` is not after `created`")
    if "summary" in r:
        p = text_problem(r["summary"], 16 * 1024)
        if p:
            errs.append("`summary` " + p)
    if "subjects" in r:
        subj = r["subjects"]
        if not isinstance(subj, list) or not subj or len(subj) > 256:
            errs.append("`subjects` is not an array of 1 to 256 subjects")
        else:
            for i, s in enumerate(subj):
                validate_subject(i, s, errs)
    if "route" in r:
        route = r["route"]
        if not isinstance(route, list) or not route or len(route) > 64:
            errs.append("`route` is not an array of 1 to 64 legs")
        else:
            for i, leg in enumerate(route):
                w = "route[%d]" % i
                if not isinstance(leg, dict):
                    errs.append(w + " is not an object")
                    continue
                for k in leg:
                    if k not in ("country", "role", "place", "from", "until"):
                        errs.append("%s has an unknown field `%s`" % (w, k))
                if not is_country(leg.get("country")):
                    errs.append(w + ".country is missing or not an assigned country code")
                if leg.get("role") not in LEG_ROLES:
                    errs.append(w + ".role is missing or not source, transit or destination")
                if "place" in leg:
                    p = text_problem(leg["place"])
                    if p:
                        errs.append(w + ".place " + p)
                for k in ("from", "until"):
                    if k in leg and not is_date(leg[k]):
                        errs.append("%s.%s is not a date" % (w, k))
                if is_date(leg.get("from")) and is_date(leg.get("until")) \
                        and leg["from"] > leg["until"]:
                    errs.append(w + ": `from` is after `until`")
    identified = victim_identified(r) if isinstance(r.get("subjects"), list) else False
    if "victim_data_purpose" in r and r["victim_data_purpose"] not in PURPOSES:
        errs.append("`victim_data_purpose` is not a purpose")
    if identified and "victim_data_purpose" not in r:
        errs.append("a victim carries identifying fields but `victim_data_purpose` is missing")
    if not identified and "victim_data_purpose" in r:
        errs.append("`victim_data_purpose` is given but no victim is identified")
    for k in ("corrects", "withdraws", "responds_to"):
        if k in r and not (isinstance(r[k], str) and HEX64_RE.match(r[k])):
            errs.append("`%s` is not a record id" % k)
    if "corrects" in r and "withdraws" in r:
        errs.append("`corrects` and `withdraws` together")
    if cat == "response" and "responds_to" not in r:
        errs.append("a response lacks `responds_to`")
    if (cat == "request-for-information") != ("addressed_to" in r):
        errs.append("`addressed_to` is required on, and only on, request-for-information")
    if "addressed_to" in r and not is_agency(r["addressed_to"]):
        errs.append("`addressed_to` is not an agency id")
    elif "addressed_to" in r and r["addressed_to"] == r.get("originator"):
        errs.append("a request cannot be addressed to its originator")
    if (cat == "return-coordination") != ("return_status" in r):
        errs.append("`return_status` is required on, and only on, return-coordination")
    if "return_status" in r and r["return_status"] not in RETURN_STATUS:
        errs.append("`return_status` is not a return status")
    return errs


def same_person(a, b):
    """records.md / bundle.md 10.5: same `ref`, or same normalised name and date of birth."""
    if isinstance(a.get("ref"), str) and a.get("ref") == b.get("ref"):
        return True
    if all(isinstance(x.get(k), str) for x in (a, b) for k in ("name", "date_of_birth")):
        norm = lambda n: " ".join(n.lower().split())
        return norm(a["name"]) == norm(b["name"]) and a["date_of_birth"] == b["date_of_birth"]
    return False


# ---------------------------------------------------------------------------------------------
# The agreement file (bundle.md §2, model-mou.md)

AGREEMENT_KEYS = ("id", "title", "kind", "members", "valid_from", "valid_until", "categories",
                  "most_permissive_handling", "retention_days", "onward_sharing", "victim_data",
                  "focal_points")


def validate_agreement(text):
    """(agreement dict, errors). The dict holds what the records need, or is None."""
    errs = []
    if text.startswith("\ufeff"):  # a byte-order mark: part of the hashed bytes, not TOML
        text = text[1:]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return None, ["not TOML: %s" % e]

    for k in doc:
        if k not in AGREEMENT_KEYS and k not in ("matching", "release"):
            errs.append("unknown key `%s`" % k)
    for k in AGREEMENT_KEYS:
        if k not in doc:
            errs.append("missing `%s`" % k)
    if "id" in doc and not is_agreement_id(doc["id"]):
        errs.append("`id` is not an agreement id (1-64 of A-Za-z0-9._-, first a letter or digit)")
    if "title" in doc and not (isinstance(doc["title"], str) and doc["title"].strip()):
        errs.append("`title` is not a non-empty string")
    members = doc.get("members")
    if "members" in doc:
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            errs.append("`members` is not an array of agency ids")
            members = None
        else:
            for m in members:
                if not is_agency(m):
                    errs.append("member `%s` is not an agency id" % m)
            if len(members) < 2:
                errs.append("`members` names fewer than 2 agencies")
            if len(set(members)) != len(members):
                errs.append("`members` names an agency twice")
    if "kind" in doc:
        if doc["kind"] not in ("bilateral", "multilateral"):
            errs.append("`kind` is neither bilateral nor multilateral")
        elif isinstance(members, list):
            if doc["kind"] == "bilateral" and len(members) != 2:
                errs.append("a bilateral agreement has exactly 2 members")
            if doc["kind"] == "multilateral" and len(members) < 3:
                errs.append("a multilateral agreement has 3 or more members")
    dates = {}
    for k in ("valid_from", "valid_until"):
        if k in doc:
            v = doc[k]
            if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
                dates[k] = v
            else:
                errs.append("`%s` is not a date (YYYY-MM-DD)" % k)
    if len(dates) == 2 and dates["valid_from"] > dates["valid_until"]:
        errs.append("`valid_from` is after `valid_until`")
    cats = doc.get("categories")
    if "categories" in doc:
        if not isinstance(cats, list) or not cats:
            errs.append("`categories` is not a non-empty array")
            cats = None
        else:
            for c in cats:
                if c not in CATEGORIES:
                    errs.append("category %r is not a record category" % (c,))
            if len(set(map(str, cats))) != len(cats):
                errs.append("`categories` names a category twice")
    mph = doc.get("most_permissive_handling")
    if "most_permissive_handling" in doc and mph not in HANDLING:
        errs.append("`most_permissive_handling` is not H0-H3")
    rd = doc.get("retention_days")
    if "retention_days" in doc and (not isinstance(rd, int) or isinstance(rd, bool) or rd < 1):
        errs.append("`retention_days` is not a positive integer")
    if "onward_sharing" in doc and doc["onward_sharing"] not in ONWARD:
        errs.append("`onward_sharing` is not one of %s" % ", ".join(ONWARD))
    vd = doc.get("victim_data")
    allowed, purposes = False, []
    if "victim_data" in doc:
        if not isinstance(vd, dict):
            errs.append("`victim_data` is not a table")
        else:
            for k in vd:
                if k not in ("allowed", "purposes"):
                    errs.append("unknown key `victim_data.%s`" % k)
            if not isinstance(vd.get("allowed"), bool):
                errs.append("`victim_data.allowed` is missing or not true/false")
            else:
                allowed = vd["allowed"]
            pv = vd.get("purposes", [])
            if not isinstance(pv, list):
                errs.append("`victim_data.purposes` is not an array")
            else:
                for p in pv:
                    if p not in PURPOSES:
                        errs.append("victim data purpose %r is not a purpose" % (p,))
                if len(set(map(str, pv))) != len(pv):
                    errs.append("`victim_data.purposes` names a purpose twice")
                purposes = [p for p in pv if isinstance(p, str)]
            if allowed and not purposes:
                errs.append("`victim_data.allowed` is true but no purpose is listed")
            if not allowed and purposes:
                errs.append("`victim_data.allowed` is false but purposes are listed")
    # the optional [matching] clause (model MoU clause 13, docs/matching.md): checked, not used
    mt = doc.get("matching")
    if "matching" in doc:
        if not isinstance(mt, dict):
            errs.append("`matching` is not a table")
        else:
            bounds = {"lookups_per_day": (0, 100000), "epoch_days": (1, 366)}
            for k, v in mt.items():
                if k in bounds:
                    lo, hi = bounds[k]
                    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                        errs.append("`matching.%s` is not an integer from %d to %d" % (k, lo, hi))
                elif k == "partner_records":
                    if not isinstance(v, bool):
                        errs.append("`matching.partner_records` is not true/false")
                else:
                    errs.append("unknown key `matching.%s`" % k)
    release = None
    if "release" in doc:
        release, rerrs = validate_release(doc["release"])
        errs.extend(rerrs)
    fp = doc.get("focal_points")
    if "focal_points" in doc:
        if not isinstance(fp, dict):
            errs.append("`focal_points` is not a table")
        else:
            for a, v in fp.items():
                if isinstance(members, list) and a not in members:
                    errs.append("focal point of `%s`, which is not a member" % a)
                if not isinstance(v, dict) or set(v) != {"name", "contact"} \
                        or not all(isinstance(x, str) and x.strip() for x in v.values()):
                    errs.append("focal point of `%s` is not {name, contact}" % a)
            for m in members if isinstance(members, list) else []:
                if m not in fp:
                    errs.append("member `%s` has no focal point" % m)
    ok = (isinstance(doc.get("id"), str) and isinstance(members, list) and len(dates) == 2
          and isinstance(cats, list) and mph in HANDLING)
    if not ok:
        return None, errs
    return {
        "id": doc["id"], "members": [m for m in members if isinstance(m, str)],
        "from": dates["valid_from"].isoformat() + "T00:00:00Z",
        "until": dates["valid_until"].isoformat() + "T23:59:59Z",
        "categories": [c for c in cats if isinstance(c, str)], "handling": mph,
        "retention_days": rd if isinstance(rd, int) and not isinstance(rd, bool) else None,
        "victim_allowed": allowed, "purposes": purposes, "release": release,
    }, errs


def validate_release(rl):
    """The optional [release] clause (model-mou.md clause 14, protocol.md §13): `approvals` 1
    to 4 (required); `handling` (handling codes), `categories` (record categories), both
    arrays without repeats, and `victim_data` (boolean), optional; at least one of the three
    covers something. (clause dict or None, errors)."""
    if not isinstance(rl, dict):
        return None, ["`release` is not a table"]
    errs = []
    for k in rl:
        if k not in ("approvals", "handling", "categories", "victim_data"):
            errs.append("unknown key `release.%s`" % k)
    n = rl.get("approvals")
    if "approvals" not in rl:
        errs.append("`release.approvals` is missing")
    elif not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 4:
        errs.append("`release.approvals` is not an integer from 1 to 4")
    lists = {}
    for k, allowed, what in (("handling", HANDLING, "handling code"),
                             ("categories", CATEGORIES, "record category")):
        v = rl.get(k, [])
        if not isinstance(v, list):
            errs.append("`release.%s` is not an array" % k)
            v = []
        for x in v:
            if x not in allowed:
                errs.append("`release.%s`: %r is not a %s" % (k, x, what))
        if len(set(map(str, v))) != len(v):
            errs.append("`release.%s` names a value twice" % k)
        lists[k] = [x for x in v if isinstance(x, str)]
    victim = rl.get("victim_data", False)
    if not isinstance(victim, bool):
        errs.append("`release.victim_data` is not true/false")
        victim = False
    if not lists["handling"] and not lists["categories"] and not victim:
        errs.append("`release` covers nothing: no handling code, no category and "
                    "victim_data not true")
    if errs:
        return None, errs
    return {"approvals": n, "handling": lists["handling"], "categories": lists["categories"],
            "victim_data": victim}, errs


# ---------------------------------------------------------------------------------------------
# The envelope (protocol.md §4)

def parse_envelope(env):
    """dict(version, kind, signer, sig, cert, cert_sig, record, approvals) or a reason;
    `approvals` (version 2, protocol.md §4 and §13) is a list of dict(approval, sig, cert,
    cert_sig), empty for version 1."""
    if len(env) < 106:
        return "envelope shorter than its 106-byte header"
    if env[:4] != b"ACRD":
        return "bad magic (not ACRD)"
    if env[4] not in (1, 2):
        return "unsupported envelope version %d" % env[4]
    kind = env[5]
    if kind not in (1, 2):
        return "unsupported signer kind %d" % kind
    out = {"version": env[4], "kind": kind, "signer": env[6:38], "sig": env[38:102],
           "cert": None, "cert_sig": None, "approvals": []}
    at = 102
    if kind == 2:
        (m,) = struct.unpack(">H", env[at:at + 2])
        if m == 0 or m > MAX_CERTIFICATE:
            return "certificate length %d is not 1 to 4096" % m
        if len(env) < at + 2 + m + 64 + 4:
            return "envelope shorter than its certificate"
        out["cert"] = env[at + 2:at + 2 + m]
        out["cert_sig"] = env[at + 2 + m:at + 2 + m + 64]
        at += 2 + m + 64
    (n,) = struct.unpack(">I", env[at:at + 4])
    record = env[at + 4:]
    if n == 0 or n > MAX_RECORD:
        return "record length %d is not 1 to 65536" % n
    if out["version"] == 1 or len(record) < n:
        # version 1: nothing may follow the record
        if len(record) != n:
            return "record length %d does not match the %d bytes that follow" % (
                n, len(record))
    else:
        approvals = parse_approvals(record[n:])
        if isinstance(approvals, str):
            return approvals
        out["approvals"] = approvals
        record = record[:n]
    out["record"] = record
    return out


def parse_approvals(data):
    """The releasers' approvals after the record of a version-2 envelope (protocol.md §4):
    count 1 to 4, each approval (1 to 512 bytes), its signature, the releaser's certificate
    (1 to 4096 bytes) and the agency's signature of it; nothing after them. A list or a
    reason."""
    if not data:
        return "envelope version 2 without approvals after the record"
    k = data[0]
    if not 1 <= k <= MAX_APPROVALS:
        return "approval count %d is not 1 to 4" % k
    at, out = 1, []
    for i in range(1, k + 1):
        if len(data) < at + 2:
            return "envelope shorter than its approval %d" % i
        (a,) = struct.unpack(">H", data[at:at + 2])
        if a == 0 or a > MAX_APPROVAL:
            return "approval %d: length %d is not 1 to 512" % (i, a)
        if len(data) < at + 2 + a + 64 + 2:
            return "envelope shorter than its approval %d" % i
        approval, sig = data[at + 2:at + 2 + a], data[at + 2 + a:at + 2 + a + 64]
        at += 2 + a + 64
        (c,) = struct.unpack(">H", data[at:at + 2])
        if c == 0 or c > MAX_CERTIFICATE:
            return "approval %d: certificate length %d is not 1 to 4096" % (i, c)
        if len(data) < at + 2 + c + 64:
            return "envelope shorter than its approval %d" % i
        cert, cert_sig = data[at + 2:at + 2 + c], data[at + 2 + c:at + 2 + c + 64]
        at += 2 + c + 64
        out.append({"approval": approval, "sig": sig, "cert": cert, "cert_sig": cert_sig})
    if at != len(data):
        return "%d bytes follow the approvals" % (len(data) - at)
    return out


def stream_of(originator, kind, signer):
    """protocol.md §6: the agency id, or the agency id, `/`, and 16 hex of SHA-256(key)."""
    if kind == 2:
        return originator + "/" + hashlib.sha256(signer).hexdigest()[:16]
    return originator


CERTIFICATE_MEMBERS = {"v", "agency", "delegate", "holder", "host_country", "agreements",
                       "categories", "valid_from", "valid_until", "issued"}


def parse_certificate(cert, what, what_in_json):
    """A delegation certificate's form (protocol.md §10): canonical JSON with exactly the
    members of §10, an officer's without `role` and `handling`, a releaser's with `role`
    "releaser" and `handling` (non-empty, sorted H0 to H3, no repeats). (certificate, its
    delegate's key bytes, None) or (None, None, why not)."""
    c, why = parse_canonical(cert, what_in_json)
    if why:
        return None, None, why
    # `role` and `handling` only on a releaser's certificate; `handling` never without `role`
    extra = set(c) - CERTIFICATE_MEMBERS
    if not CERTIFICATE_MEMBERS <= set(c) or extra not in (set(), {"role"}, {"role", "handling"}):
        return None, None, "%s does not have exactly the members of protocol.md §10" % what
    bad = []
    if c["v"] != 1 or isinstance(c["v"], bool):
        bad.append("v is not 1")
    if not is_agency(c["agency"]):
        bad.append("agency is not an agency id")
    if not (isinstance(c["holder"], str) and 1 <= len(c["holder"]) <= 200):
        bad.append("holder is not 1-200 characters")
    if not is_country(c["host_country"]):
        bad.append("host_country is not an assigned country code")
    for k, valid in (("agreements", is_agreement_id), ("categories", CATEGORIES.__contains__)):
        v = c[k]
        if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v) \
                or [x.encode() for x in v] != sorted(set(x.encode() for x in v)):
            bad.append("%s is not a non-empty sorted array of distinct strings" % k)
        elif not all(valid(x) for x in v):
            bad.append("%s holds a value that is not an %s" % (
                k, "agreement id" if k == "agreements" else "record category"))
    if "role" in c:
        if c["role"] != "releaser":
            bad.append("role is not \"releaser\"")
        h = c.get("handling")
        if not isinstance(h, list) or not h or not all(x in HANDLING for x in h) \
                or h != sorted(set(h), key=HANDLING.index):
            bad.append("handling is not a non-empty array of H0-H3, sorted, without repeats")
    for k in ("valid_from", "valid_until", "issued"):
        if not is_time(c[k]):
            bad.append("%s is not a time" % k)
    if not bad and not c["valid_from"] < c["valid_until"]:
        bad.append("valid_from is not before valid_until")
    delegate, why = parse_key(c["delegate"])
    if why:
        bad.append("delegate: " + why)
    if bad:
        return None, None, "%s is malformed: %s" % (what, "; ".join(bad))
    return c, delegate, None


def approval_line(ap):
    """The line printed under a verdict for one approval, as its bytes state it (bundle.md
    10): `     approved by <holder> (certificate <16 hex of its id>) at <approved>`."""
    def member(data, name):
        try:
            v = parse_json(data)
        except (ValueError, UnicodeError):
            return "?"
        v = v.get(name) if isinstance(v, dict) else None
        return v if isinstance(v, str) else "?"
    cid = hashlib.sha256(DELEGATION_DOMAIN + ap["cert"]).hexdigest()
    return "     approved by %s (certificate %s) at %s" % (
        member(ap["cert"], "holder"), cid[:16], member(ap["approval"], "approved"))


# ---------------------------------------------------------------------------------------------
# Key histories (bundle.md §4, protocol.md §11)

class History:
    """An agency's keys over time: `first` before the first statement's `since`, then each
    statement's key from its `since`."""

    def __init__(self, listed, statements=()):
        self.listed = listed
        self.periods = []  # (since or None, key)
        if statements:
            self.periods.append((None, statements[0]["previous_key"]))
            for s in statements:
                self.periods.append((s["since"], s["key_bytes"]))
        elif listed is not None:
            self.periods.append((None, listed))

    def at(self, t):
        key = None
        for since, k in self.periods:
            if since is None or since <= t:
                key = k
        return key

    def all(self):
        return [k for _, k in self.periods]


# ---------------------------------------------------------------------------------------------
# The verifier

class Verifier:
    def __init__(self, data):
        self.data = data
        self.problems = []   # (line or None, text)
        self.out = []        # info lines printed first
        self.verdicts = []   # verdict lines
        self.gaps = []
        self.ok = self.failed = 0
        self.notes = []
        self.header = self.agreement = self.agreement_sha = None
        self.members, self.unsigned, self.records, self.tombstones = [], [], [], []
        self.keys, self.histories, self.revocations = {}, {}, {}
        self.version = None

    def problem(self, line, text):
        self.problems.append((line, text))

    # -- step 1: the lines ---------------------------------------------------------------------

    def split_lines(self):
        """[(line number, start offset, bytes without LF, had LF)]."""
        lines, start, n = [], 0, 0
        data = self.data
        while start < len(data):
            n += 1
            end = data.find(b"\n", start)
            if end < 0:
                lines.append((n, start, data[start:], False))
                break
            lines.append((n, start, data[start:end], True))
            start = end + 1
        return lines

    def read_lines(self):
        """Step 1 (member checks deferred until the version is known)."""
        self.lines = []  # (n, offset, raw, obj or None, type or None)
        for n, off, raw, _ in self.split_lines():
            obj, typ = None, None
            try:
                if len(raw) > MAX_LINE:
                    self.problem(n, "line longer than 1 MiB")
                elif not raw:
                    self.problem(n, "empty line")
                else:
                    if raw.endswith(b"\r"):
                        # refused, but still read, so that the rest is judged as well
                        self.problem(n, "line ends in CR LF, not LF")
                        raw = raw[:-1]
                    try:
                        obj = parse_json(raw)
                    except (ValueError, UnicodeError) as e:
                        self.problem(n, "not JSON: %s" % e)
                    if obj is not None and not isinstance(obj, dict):
                        self.problem(n, "not a JSON object")
                        obj = None
                    if obj is not None:
                        typ = obj.get("type")
                        if typ not in LINE_KINDS:
                            self.problem(n, "unknown line type %s" % short(json.dumps(typ)))
                            obj, typ = None, None
            except Exception as e:  # never a traceback
                self.problem(n, "unreadable line: %s" % e)
                obj, typ = None, None
            self.lines.append((n, off, raw, obj, typ))

    def check_members(self, n, raw, obj, typ):
        """Exactly the members of the type, of the types stated; `{"type":` first."""
        want = dict(MEMBERS[typ])
        optional = V1_ABSENT.get(typ, ()) if self.version == 1 else ()
        bad = []
        for k in want:
            if k not in obj and k not in optional:
                bad.append("missing field %s" % k)
        for k in obj:
            if k != "type" and k not in want:
                bad.append("unknown field %s" % k)
        for k, t in want.items():
            if k not in obj:
                continue
            v = obj[k]
            good = {STR: isinstance(v, str),
                    INT: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                    LIST: isinstance(v, list), TIME: is_time(v),
                    STR_OR_NULL: v is None or isinstance(v, str)}[t]
            if not good:
                bad.append("field %s is not %s" % (k, t))
        if bad:
            self.problem(n, "malformed %s line: %s" % (kind_name(typ), "; ".join(bad)))
            return False
        if not raw.startswith(b'{"type":'):
            self.problem(n, 'the line does not begin with {"type":')
        return True

    def check_order(self):
        rank = {t: i for i, t in enumerate(LINE_KINDS)}
        last = -1
        seen = set()
        for idx, (n, _, _, obj, typ) in enumerate(self.lines):
            if typ is None:
                continue
            if idx == 0 and typ != "accord-bundle":
                self.problem(n, "the first line is not the header")
            if idx == 1 and typ != "agreement":
                self.problem(n, "the second line is not the agreement")
            if typ in ("accord-bundle", "agreement", "signature") and typ in seen:
                self.problem(n, "a second %s line" % kind_name(typ))
            elif rank[typ] < last:
                self.problem(n, "a %s line after a %s line" % (kind_name(typ),
                                                               kind_name(LINE_KINDS[last])))
            if typ == "accord-bundle" and idx != 0 and "accord-bundle" not in seen:
                self.problem(n, "the header is not the first line")
            if typ == "agreement" and idx != 1 and "agreement" not in seen:
                self.problem(n, "the agreement is not the second line")
            seen.add(typ)
            last = max(last, rank[typ])

    # -- the whole run -------------------------------------------------------------------------

    def run(self):
        self.read_lines()
        headers = [(n, o) for n, _, _, o, t in self.lines if t == "accord-bundle"]
        self.version = None
        if headers and isinstance(headers[0][1].get("version"), int) \
                and not isinstance(headers[0][1].get("version"), bool):
            self.version = headers[0][1]["version"]
        # step 2 (first part): another version is reported alone
        if headers and self.version not in (1, 2):
            self.problems = [(headers[0][0], "unsupported bundle version %s; this verifier "
                              "reads versions 1 and 2" % short(json.dumps(
                                  headers[0][1].get("version"))))]
            return
        if not headers:
            self.version = 2
        self.by_kind = {t: [] for t in LINE_KINDS}
        self.count_present = {t: 0 for t in LINE_KINDS}
        for n, off, raw, obj, typ in self.lines:
            if typ is None:
                continue
            self.count_present[typ] += 1
            try:
                if self.check_members(n, raw, obj, typ):
                    self.by_kind[typ].append((n, off, raw, obj))
            except Exception as e:
                self.problem(n, "malformed line: %s" % e)
        self.check_order()
        # step 2: a line kind the version does not have
        if self.version == 1:
            for typ in ("rotation", "revocation", "signature"):
                for n, *_ in self.by_kind[typ]:
                    self.problem(n, "a version-1 bundle has no %s lines" % typ)
        if not self.by_kind["accord-bundle"]:
            # without a header the version, the exporter and the counts are unknown
            self.problem(None, "no usable header line; nothing else is judged")
            return
        h = self.header = self.by_kind["accord-bundle"][0][3]
        self.out.append("bundle of agreement %s, exported by %s at %s" % (
            h["agreement"], h["exported_by"], h["exported_at"]))
        for step in (self.step_agreement, self.step_keys, self.step_rotations,
                     self.step_agreement_signatures, self.step_revocations, self.step_counts,
                     self.step_signature, self.step_records, self.step_tombstones,
                     self.step_one_per_number, self.step_sequences):
            try:
                step()
            except Exception as e:  # a step must never crash the whole verdict
                self.problem(None, "%s could not be checked: %s: %s" % (
                    step.__name__[5:], type(e).__name__, e))

    # -- step 3: the agreement -----------------------------------------------------------------

    def step_agreement(self):
        self.agreement = None
        self.agreement_sha = None
        self.members = []
        if not self.by_kind["agreement"]:
            self.problem(None, "no agreement line")
            return
        n, _, _, a = self.by_kind["agreement"][0]
        data = b64decode(a["file"])
        if data is None:
            self.problem(n, "the agreement file is not base64")
            return
        digest = hashlib.sha256(data).hexdigest()
        self.agreement_sha = bytes.fromhex(digest)
        self.out.append("agreement file sha256 %s" % digest)
        if a["sha256"] != digest:
            self.problem(n, "the agreement file's SHA-256 is %s, not the stated %s: the file "
                         "was altered" % (digest, short(a["sha256"], 64)))
        try:
            text = data.decode("utf-8")
        except UnicodeError:
            self.problem(n, "bundled-agreement.toml: not UTF-8")
            return
        agreement, errs = validate_agreement(text)
        for e in errs:
            self.problem(n, "bundled-agreement.toml: " + e)
        if agreement is None:
            return
        self.agreement = agreement
        self.members = agreement["members"]
        if self.header is not None and agreement["id"] != self.header["agreement"]:
            self.problem(n, "the bundled file defines agreement %s, not %s" % (
                agreement["id"], self.header["agreement"]))

    # -- step 4: the keys ----------------------------------------------------------------------

    def step_keys(self):
        self.keys = {}
        prev = None
        for n, _, _, k in self.by_kind["key"]:
            agency = k["agency"]
            key, why = parse_key(k["public_key"])
            if why:
                self.problem(n, "key of %s: %s" % (agency, why))
            if agency in self.keys:
                self.problem(n, "a second key line for %s" % agency)
            elif key is not None:
                self.keys[agency] = key
            if prev is not None and agency < prev:
                self.problem(n, "key lines are not sorted by agency (%s after %s)" % (
                    agency, prev))
            prev = agency
            if self.agreement is not None and agency not in self.members:
                self.problem(n, "key of %s, which is not a member of the agreement" % agency)
        if self.agreement is not None:
            for m in self.members:
                if m not in [k["agency"] for _, _, _, k in self.by_kind["key"]]:
                    self.problem(None, "no key line for member %s" % m)

    # -- step 5: the key histories -------------------------------------------------------------

    def step_rotations(self):
        self.histories = {a: History(k) for a, k in self.keys.items()}
        parsed = []  # statement dicts with their line
        prev = None
        for n, _, _, r in self.by_kind["rotation"]:
            s = self.parse_rotation(n, r)
            if s is None:
                continue
            parsed.append(s)
            sk = (s["agency"], s["since"])
            if prev is not None and sk < prev:
                self.problem(n, "rotation lines are not sorted by (agency, since)")
            prev = sk
        own_ok = [s for s in parsed if s["own_ok"]]
        # histories from the statements whose own signatures verify, to check attestations
        prelim = self.build_histories(own_ok, report=False)
        accepted = []
        for s in parsed:
            if not s["own_ok"]:
                continue
            good = True
            attesters, seen = set(), set()
            for i, att in enumerate(s["attestations"]):
                who = att.get("agency") if isinstance(att, dict) else None
                if not isinstance(att, dict) or set(att) != {"agency", "signature"} \
                        or not isinstance(who, str) or not isinstance(att["signature"], str):
                    self.problem(s["line"], "attestation %d is not {agency, signature}" % i)
                    good = False
                    continue
                sig = hex_sig(att["signature"])
                if sig is None:
                    self.problem(s["line"], "attestation by %s is not 128 hex digits" % who)
                    good = False
                    continue
                if who == s["agency"] or who not in self.members:
                    self.problem(s["line"], "attestation by %s, which is not another member"
                                 % who)
                    good = False
                    continue
                if who in seen:
                    self.problem(s["line"], "a second attestation by %s" % who)
                    good = False
                    continue
                seen.add(who)
                hist = prelim.get(who)
                key = hist.at(s["since"]) if hist else None
                if key is None:
                    self.problem(s["line"], "attestation by %s: the bundle holds no key for %s"
                                 % (who, who))
                    good = False
                    continue
                why = strict_verify(key, sig, ROTATION_DOMAIN + s["bytes"])
                if why:
                    self.problem(s["line"], "attestation by %s: %s" % (who, why))
                    good = False
                    continue
                attesters.add(who)
            if s["previous_signature"] is None:
                missing = [m for m in self.members if m != s["agency"] and m not in attesters]
                if missing:
                    self.problem(s["line"], "the previous key's signature is absent and %s "
                                 "did not attest" % ", ".join(missing))
                    good = False
            if good:
                accepted.append(s)
        self.histories = self.build_histories(accepted, report=True)
        for a in sorted(self.histories):
            h = self.histories[a]
            if len(h.periods) == 1:
                self.out.append("key  %s ed25519:%s" % (a, h.periods[0][1].hex()))
            else:
                for i, (since, k) in enumerate(h.periods):
                    if since is None:
                        self.out.append("key  %s ed25519:%s before %s" % (
                            a, k.hex(), h.periods[1][0]))
                    else:
                        self.out.append("key  %s ed25519:%s from %s" % (a, k.hex(), since))

    def parse_rotation(self, n, r):
        """A rotation line's statement with its own checks, or None when unusable."""
        ksig = hex_sig(r["key_signature"])
        psig = None
        bad = False
        if ksig is None:
            self.problem(n, "rotation: key_signature is not 128 hex digits")
            bad = True
        if r["previous_signature"] is not None:
            psig = hex_sig(r["previous_signature"])
            if psig is None:
                self.problem(n, "rotation: previous_signature is not 128 hex digits")
                bad = True
        data = r["statement"].encode("utf-8")
        if len(data) > MAX_STATEMENT:
            self.problem(n, "rotation statement longer than 4096 bytes")
        st, why = parse_canonical(data, "the rotation statement")
        if why:
            self.problem(n, why)
            return None
        if set(st) != {"v", "agency", "previous", "key", "since"}:
            self.problem(n, "the rotation statement does not have exactly v, agency, previous, "
                         "key, since")
            return None
        if st["v"] != 1 or isinstance(st["v"], bool):
            self.problem(n, "the rotation statement's v is not 1")
            return None
        if not is_agency(st["agency"]) or not is_time(st["since"]):
            self.problem(n, "the rotation statement's agency or since is malformed")
            return None
        prev_key, w1 = parse_key(st["previous"])
        new_key, w2 = parse_key(st["key"])
        if w1 or w2:
            self.problem(n, "rotation of %s: %s" % (st["agency"], w1 or w2))
            return None
        if prev_key == new_key:
            self.problem(n, "rotation of %s: the key and the previous key are the same"
                         % st["agency"])
            return None
        if st["agency"] not in self.members:
            self.problem(n, "rotation of %s, which is not a member" % st["agency"])
            bad = True
        own_ok = not bad
        if ksig is not None:
            why = strict_verify(new_key, ksig, ROTATION_DOMAIN + data)
            if why:
                self.problem(n, "rotation of %s: the new key's signature: %s"
                             % (st["agency"], why))
                own_ok = False
        if psig is not None:
            why = strict_verify(prev_key, psig, ROTATION_DOMAIN + data)
            if why:
                self.problem(n, "rotation of %s: the previous key's signature: %s"
                             % (st["agency"], why))
                own_ok = False
        return {"line": n, "agency": st["agency"], "since": st["since"], "bytes": data,
                "previous_key": prev_key, "key_bytes": new_key,
                "previous_signature": psig if r["previous_signature"] is not None else None,
                "attestations": r["attestations"], "own_ok": own_ok}

    def build_histories(self, statements, report):
        hist = {a: History(k) for a, k in self.keys.items()}
        by_agency = {}
        for s in statements:
            by_agency.setdefault(s["agency"], []).append(s)
        for a, ss in by_agency.items():
            ss = sorted(ss, key=lambda s: s["since"])
            why, line = None, None
            for x, y in zip(ss, ss[1:]):
                if y["since"] <= x["since"]:
                    why = "two statements with since %s" % y["since"]
                elif x["key_bytes"] != y["previous_key"]:
                    why = "the statement from %s does not start from the key of the one " \
                          "before" % y["since"]
                if why:
                    line = y["line"]
                    break
            if why is None and self.keys.get(a) != ss[-1]["key_bytes"]:
                why = "the last statement's key is not the listed key" if a in self.keys \
                    else "the bundle holds no key line"
                line = ss[-1]["line"]
            if why:
                if report:
                    self.problem(line, "the key rotations of %s do not chain (%s); only its "
                                 "listed key is used" % (a, why))
                continue
            hist[a] = History(self.keys[a], ss)
        return hist

    # -- step 6: the agreement signatures ------------------------------------------------------

    def step_agreement_signatures(self):
        if not self.by_kind["agreement"]:
            return
        n, _, _, a = self.by_kind["agreement"][0]
        signed, seen = set(), set()
        for i, s in enumerate(a["signatures"]):
            if not isinstance(s, dict) or set(s) != {"agency", "signature"} \
                    or not isinstance(s.get("agency"), str) \
                    or not isinstance(s.get("signature"), str):
                self.problem(n, "agreement signature %d is not {agency, signature}" % i)
                continue
            who = s["agency"]
            sig = hex_sig(s["signature"])
            if sig is None:
                self.problem(n, "agreement signature of %s is not 128 lower-case hex digits"
                             % who)
                continue
            if self.agreement is not None and who not in self.members:
                self.problem(n, "agreement signature of %s, which is not a member" % who)
                continue
            if who in seen:
                self.problem(n, "a second agreement signature of %s" % who)
                continue
            seen.add(who)
            if self.agreement_sha is None:
                continue
            hist = self.histories.get(who)
            if hist is None:
                self.problem(n, "agreement signature of %s: the bundle holds no key for %s"
                             % (who, who))
                continue
            msg = AGREEMENT_DOMAIN + self.agreement_sha
            if any(strict_verify(k, sig, msg) is None for k in hist.all()):
                signed.add(who)
            else:
                self.problem(n, "agreement signature of %s does not verify under any key of "
                             "its history" % who)
        if self.agreement is not None:
            self.unsigned = [m for m in self.members if m not in signed]
            for m in self.unsigned:
                self.problem(n, "the agreement lacks a valid signature of %s; it is not in "
                             "effect" % m)

    # -- step 7: the revocations ---------------------------------------------------------------

    def step_revocations(self):
        self.revocations = {}  # (agency, certificate id) -> revoked time
        prev, seen = None, set()
        for n, _, _, r in self.by_kind["revocation"]:
            sig = hex_sig(r["signature"])
            if sig is None:
                self.problem(n, "revocation signature is not 128 hex digits")
            data = r["revocation"].encode("utf-8")
            rv, why = parse_canonical(data, "the revocation")
            if why:
                self.problem(n, why)
                continue
            if set(rv) != {"v", "agency", "certificate", "revoked", "reason"} \
                    or rv["v"] != 1 or isinstance(rv["v"], bool) \
                    or not isinstance(rv["agency"], str) \
                    or not (isinstance(rv["certificate"], str)
                            and HEX64_RE.match(rv["certificate"])) \
                    or not is_time(rv["revoked"]) or not isinstance(rv["reason"], str):
                # protocol.md §10 limits `reason` to 200 characters; `accord verify` does not
                # refuse a longer one, and neither does this script (see the report's gaps)
                self.problem(n, "the revocation is not {v: 1, agency, certificate (64 hex), "
                             "revoked (time), reason}")
                continue
            agency, cert = rv["agency"], rv["certificate"]
            key = (agency, cert)
            if prev is not None and key < prev:
                self.problem(n, "revocation lines are not sorted by (agency, certificate id)")
            prev = key
            if self.agreement is not None and agency not in self.members:
                self.problem(n, "revocation by %s, which is not a member" % agency)
                continue
            if cert in seen:
                self.problem(n, "certificate %s is revoked twice" % short(cert, 16))
                continue
            seen.add(cert)
            hist = self.histories.get(agency)
            if sig is None:
                continue
            if hist is None:
                self.problem(n, "revocation by %s: the bundle holds no key for %s"
                             % (agency, agency))
                continue
            if not any(strict_verify(k, sig, REVOCATION_DOMAIN + data) is None
                       for k in hist.all()):
                self.problem(n, "revocation by %s does not verify under any key it had"
                             % agency)
                continue
            self.revocations[key] = rv["revoked"]
            self.out.append("revoked %s certificate %s from %s" % (agency, cert,
                                                                   rv["revoked"]))

    # -- step 8: the counts --------------------------------------------------------------------

    def step_counts(self):
        if self.header is None:
            return
        n = self.by_kind["accord-bundle"][0][0]
        kinds = [("records", "record"), ("tombstones", "tombstone")]
        if self.version == 2:
            kinds += [("rotations", "rotation"), ("revocations", "revocation")]
        for member, typ in kinds:
            if self.header[member] != self.count_present[typ]:
                self.problem(n, "the header counts %d %s, the bundle holds %d" % (
                    self.header[member], member, self.count_present[typ]))

    # -- step 9: the bundle signature ----------------------------------------------------------

    def step_signature(self):
        if self.version != 2:
            return
        sigs = self.by_kind["signature"]
        if not sigs:
            self.problem(None, "no signature line: the bundle is not signed")
            return
        n, off, _, s = sigs[0]
        exporter = self.header["exported_by"] if self.header else None
        if s["agency"] != exporter:
            self.problem(n, "the bundle is signed by %s, not by the exporter %s" % (
                s["agency"], exporter))
            return
        key = self.keys.get(exporter)
        if key is None:
            self.problem(n, "the bundle holds no key for the exporter %s" % exporter)
            return
        digest = hashlib.sha256(self.data[:off]).digest()
        if s["sha256"] != digest.hex():
            self.problem(n, "the SHA-256 of the lines before the signature is %s, not the "
                         "signed %s: lines were added, removed or altered after signing" % (
                             digest.hex(), short(s["sha256"], 64)))
            return
        sig = hex_sig(s["signature"])
        if sig is None:
            self.problem(n, "the bundle signature is not 128 hex digits")
            return
        why = strict_verify(key, sig, BUNDLE_DOMAIN + digest)
        if why:
            self.problem(n, "the bundle signature: %s" % why)
            return
        self.out.append("signed by %s with ed25519:%s" % (exporter, key.hex()))

    # -- step 10: each record ------------------------------------------------------------------

    def step_records(self):
        self.records = []
        ids = {}
        prev = None
        for n, _, _, line in self.by_kind["record"]:
            rec = {"line": n, "listed": line["id"], "reasons": [], "stream": None, "seq": None,
                   "id": None, "sig_ok": False, "created": None}
            try:
                self.judge_record(line, rec)
            except Exception as e:  # never a traceback: the line fails
                rec["reasons"].append("cannot be checked: %s: %s" % (type(e).__name__, e))
                rec["sig_ok"] = False
            self.records.append(rec)
            if line["id"] in ids:
                self.problem(n, "record %s is listed twice (also line %d)" % (
                    short(line["id"], 16), ids[line["id"]]))
            else:
                ids[line["id"]] = n
            if rec.get("sort") is not None:
                if prev is not None and rec["sort"] < prev:
                    self.problem(n, "record lines are not sorted by (%s, seq, id)" % (
                        "stream" if self.version == 2 else "originator"))
                prev = rec["sort"]

    def judge_record(self, line, rec):
        reasons = rec["reasons"]
        env = b64decode(line["envelope"])
        if env is None:
            reasons.append("the envelope is not base64")
            return
        e = parse_envelope(env)
        if isinstance(e, str):
            reasons.append("the envelope does not decode: " + e)
            return
        # the approvals as their bytes state them, printed under the verdict (bundle.md 10)
        rec["approval_lines"] = [approval_line(a) for a in e["approvals"]]
        record = e["record"]
        rid = hashlib.sha256(RECORD_DOMAIN + record).hexdigest()
        rec["id"] = rid
        if line["id"] != rid:
            reasons.append("the listed id is not the record id %s" % rid)
        r, why = parse_canonical(record, "the record")
        if why is None:
            errs = validate_record(r)
            if errs:
                why = "not a valid record: " + "; ".join(errs)
        if why:
            # Not a record (protocol.md §5 step 3): it holds no number, and the signature and
            # policy are not judged; its stream and seq are named when they can be read.
            reasons.append(why)
            if isinstance(r, dict) and is_agency(r.get("originator")) \
                    and seq_value(r.get("seq")) is not None:
                rec["stream"] = stream_of(r["originator"], e["kind"], e["signer"])
                rec["seq"] = seq_value(r["seq"])
            return
        originator, created = r["originator"], r["created"]
        rec["created"] = created
        rec["stream"] = stream_of(originator, e["kind"], e["signer"])
        rec["seq"] = seq_value(r["seq"])
        rec["sort"] = (rec["stream"] if self.version == 2 else originator, rec["seq"],
                       line["id"])
        # step 10.4: the signature, with the key in force when it was signed, and for version
        # 2 the releasers' approvals (protocol.md §13). A record failing any of it has failed
        # step 10.4, "its signature", so it holds no number (steps 12 and 13).
        sig_reasons = self.check_signature(e, r, record, originator, created)
        approval_reasons, passed = self.check_approvals(e, r, rid, originator, created)
        carried = len(e["approvals"])
        sig_reasons += approval_reasons
        reasons.extend(sig_reasons)
        rec["sig_ok"] = not sig_reasons
        # step 10.5: the policy at `created`, then the [release] clause
        reasons.extend(self.check_policy(r, originator, created))
        reasons.extend(self.check_release(r, passed, carried))

    def check_signature(self, e, r, record, originator, created):
        out = []
        hist = self.histories.get(originator)
        if hist is None:
            return ["the bundle holds no key for %s" % originator]
        if e["kind"] == 1:
            key = hist.at(created)
            if e["signer"] != key:
                return ["the envelope is not signed with %s's key in force at %s" % (
                    originator, created)]
        else:
            out.extend(self.check_certificate(e, r, originator, created, hist))
        why = strict_verify(e["signer"], e["sig"], RECORD_DOMAIN + record)
        if why:
            rid = hashlib.sha256(RECORD_DOMAIN + record).hexdigest()
            out.append("%s for record %s of %s" % (why, short(rid, 8), originator))
        return out

    def check_certificate(self, e, r, originator, created, hist):
        """protocol.md §10, in place of §5 step 4, with the key at `issued`."""
        cert = e["cert"]
        c, delegate, bad = parse_certificate(cert, "the certificate", "the delegation certificate")
        if bad:
            return [bad]
        out = []
        if c["agency"] != originator:
            out.append("the certificate is %s's, not the originator's" % c["agency"])
            return out
        issuer = hist.at(c["issued"])
        if delegate == issuer:
            out.append("the certificate delegates to the agency key itself")
        why = strict_verify(issuer, e["cert_sig"], DELEGATION_DOMAIN + cert)
        if why:
            out.append("the certificate does not verify under %s's key in force at %s: %s" % (
                originator, c["issued"], why))
        if delegate != e["signer"]:
            out.append("the certificate does not delegate the signing key")
        if "role" in c:
            out.append("the certificate is a releaser's: a releaser's key signs no record "
                       "(protocol.md §10)")
        if r.get("agreement") not in c["agreements"]:
            out.append("the agreement is outside the delegation")
        if r.get("category") not in c["categories"]:
            out.append("the category is outside the delegation")
        if not c["valid_from"] <= created <= c["valid_until"]:
            out.append("created %s is outside the certificate's validity" % created)
        cid = hashlib.sha256(DELEGATION_DOMAIN + cert).hexdigest()
        revoked = self.revocations.get((originator, cid))
        if revoked is not None and revoked <= created:
            out.append("the certificate %s was revoked from %s, at or before created %s" % (
                short(cid, 8), revoked, created))
        return out

    def check_approvals(self, e, r, rid, originator, created):
        """protocol.md §13 for each approval of a version-2 envelope, with the releaser's
        certificate under the originator's key in force at its `issued` time and the
        revocations applied to `approved` (bundle.md 10.4). (reasons, how many passed)."""
        out, passed, earlier = [], 0, set()
        hist = self.histories.get(originator)
        if hist is None:  # step 10.4 has already failed the record for it
            return [], 0
        for i, ap in enumerate(e["approvals"], 1):
            why = self.check_approval(ap, r, rid, originator, created, hist, e["signer"],
                                      earlier)
            if why:
                out.extend("approval %d: %s" % (i, w) for w in why)
            else:
                passed += 1
        return out, passed

    def check_approval(self, ap, r, rid, originator, created, hist, signer, earlier):
        """Every failure of one approval (protocol.md §13 steps 1 to 6), or []. Adds the
        releaser's key to `earlier` when the certificate can be read."""
        # step 1: the approval
        data = ap["approval"]
        a, why = parse_canonical(data, "the approval")
        if why:
            return [why]
        if set(a) != {"v", "record", "agreement", "approved"}:
            return ["the approval does not have exactly the members v, record, agreement, "
                    "approved"]
        if a["v"] != 1 or isinstance(a["v"], bool):
            return ["the approval's v is not 1"]
        if not is_time(a["approved"]):
            return ["the approval's approved is not a time"]
        out = []
        approved = a["approved"]
        if a["record"] != rid:
            out.append("it approves record %s, not this one" % short(a["record"], 16))
        if a["agreement"] != r.get("agreement"):
            out.append("it approves under agreement %s, not the record's %s" % (
                short(a["agreement"]), r.get("agreement")))
        # step 2: the releaser's certificate
        cert = ap["cert"]
        c, releaser, bad = parse_certificate(cert, "the releaser's certificate",
                                             "the releaser's certificate")
        if bad:
            return out + [bad]
        if c["agency"] != originator:
            return out + ["the releaser's certificate is %s's, not the originator's"
                          % c["agency"]]
        issuer = hist.at(c["issued"])
        if releaser == issuer:
            out.append("the releaser's certificate delegates to the agency key itself")
        why = strict_verify(issuer, ap["cert_sig"], DELEGATION_DOMAIN + cert)
        if why:
            out.append("the releaser's certificate does not verify under %s's key in force "
                       "at %s: %s" % (originator, c["issued"], why))
        if c.get("role") != "releaser":
            out.append("the certificate is not a releaser's")
        # step 3: not the record's signer, not a releaser twice
        if releaser == signer:
            out.append("the releaser is the key that signed the record")
        if releaser in earlier:
            out.append("the releaser approved the record twice")
        earlier.add(releaser)
        # step 4: the record within the certificate
        if r.get("agreement") not in c["agreements"]:
            out.append("the agreement is outside the releaser's certificate")
        if r.get("category") not in c["categories"]:
            out.append("the category is outside the releaser's certificate")
        if r.get("handling") not in c.get("handling", []):
            out.append("the handling code is outside the releaser's certificate")
        # step 5: when
        if not c["valid_from"] <= approved <= c["valid_until"]:
            out.append("approved %s is outside the releaser's certificate's validity"
                       % approved)
        if approved < created:
            out.append("approved %s is before the record's created %s" % (approved, created))
        cid = hashlib.sha256(DELEGATION_DOMAIN + cert).hexdigest()
        revoked = self.revocations.get((originator, cid))
        if revoked is not None and revoked <= approved:
            out.append("the releaser's certificate %s was revoked from %s, at or before "
                       "approved %s" % (short(cid, 8), revoked, approved))
        # step 6: the releaser's signature
        why = strict_verify(releaser, ap["sig"], APPROVAL_DOMAIN + data)
        if why:
            out.append("the approval's signature: %s" % why)
        return out

    def check_release(self, r, passed, carried):
        """bundle.md 10.5: a record the agreement's [release] clause covers carries at least
        `approvals` approvals; only those that passed protocol.md §13 count (a failed one has
        already failed the record in step 10.4)."""
        a = self.agreement
        rl = a["release"] if a is not None else None
        if rl is None:
            return []
        covered = r.get("handling") in rl["handling"] or r.get("category") in rl["categories"] \
            or (rl["victim_data"] and victim_identified(r))
        if covered and passed < rl["approvals"]:
            return ["agreement %s requires %d releaser approval(s) for this record (its "
                    "[release] clause); it carries %d%s" % (
                        a["id"], rl["approvals"], passed,
                        "" if passed == carried else " that pass (of %d)" % carried)]
        return []

    def check_policy(self, r, originator, created):
        """bundle.md 10.5: may the originator publish it under the bundled agreement at
        `created`?"""
        a = self.agreement
        if a is None:
            return ["the bundle holds no valid agreement to check it against"]
        out = []
        if self.unsigned:
            out.append("%s has not taken effect: it lacks the signature of %s" % (
                a["id"], ", ".join(self.unsigned)))
        if r.get("agreement") != a["id"]:
            out.append("it names agreement %s, not the bundled %s" % (
                short(r.get("agreement")), a["id"]))
        if originator not in a["members"]:
            out.append("originator %s is not a member of %s" % (originator, a["id"]))
        if not a["from"] <= created <= a["until"]:
            out.append("%s was not in force at %s" % (a["id"], created))
        if r.get("category") not in a["categories"]:
            out.append("%s does not permit category %s" % (a["id"], short(r.get("category"))))
        h = r.get("handling")
        if h in HANDLING and HANDLING.index(h) < HANDLING.index(a["handling"]):
            out.append("%s does not permit handling %s (at least %s)" % (a["id"], h,
                                                                       a["handling"]))
        subjects = r.get("subjects") if isinstance(r.get("subjects"), list) else []
        if victim_identified(r):
            purpose = r.get("victim_data_purpose")
            if not a["victim_allowed"]:
                out.append("%s does not permit victim data" % a["id"])
            elif purpose not in a["purposes"]:
                out.append("%s does not permit victim data for %s" % (a["id"], short(purpose)))
        persons = [s for s in subjects if isinstance(s, dict) and s.get("type") == "person"]
        victims = [s for s in persons if s.get("role") == "victim"]
        offenders = [s for s in persons if s.get("role") in OFFENDER_ROLES]
        if any(same_person(v, o) for v in victims for o in offenders):
            out.append("one person is both victim and suspect or facilitator")
        if "expires" in r and r["expires"] <= created:
            out.append("the record had expired at its created time")
        return out

    # -- step 11: the tombstones ---------------------------------------------------------------

    def step_tombstones(self):
        self.tombstones = []
        seen = {}
        prev = None
        for n, _, _, t in self.by_kind["tombstone"]:
            bad = []
            seq = seq_value(t["seq"])
            if seq is None:
                bad.append("seq is not a decimal string from 1")
            if not HEX64_RE.match(t["id"]):
                bad.append("id is not 64 hex digits")
            if not HEX64_RE.match(t["envelope_sha256"]):
                bad.append("envelope_sha256 is not 64 hex digits")
            if not is_agency(t["originator"]):
                bad.append("originator is not an agency id")
            if self.agreement is not None and t["agreement"] != self.agreement["id"] \
                    or self.header is not None and t["agreement"] != self.header["agreement"]:
                bad.append("it names agreement %s, not the bundled one" % short(t["agreement"]))
            if "stream" in t:  # version 1 may carry it too; it is then used as well
                stream = t["stream"]
                m = STREAM_RE.match(stream)
                if not m:
                    bad.append("stream %s is not a stream id" % short(stream))
                elif m.group(1) != t["originator"]:
                    bad.append("stream %s is not of its originator %s" % (stream,
                                                                         t["originator"]))
            else:
                stream = t["originator"]
            if bad:
                self.problem(n, "tombstone: " + "; ".join(bad))
            if seq is None:
                continue
            usable = not bad
            key = (stream, seq, t["id"])
            if prev is not None and key < prev:
                self.problem(n, "tombstone lines are not sorted by (stream, seq, id)")
            prev = key
            if (stream, seq) in seen:
                self.problem(n, "a second tombstone for %s seq %d (also line %d)" % (
                    stream, seq, seen[(stream, seq)]))
            else:
                seen[(stream, seq)] = n
            self.tombstones.append({"line": n, "stream": stream, "seq": seq, "id": t["id"],
                                    "usable": usable})

    # -- step 12: one record per number --------------------------------------------------------

    def step_one_per_number(self):
        held = {}
        for rec in self.records:
            if rec["sig_ok"] and rec["stream"] is not None and rec["seq"] is not None:
                held.setdefault((rec["stream"], rec["seq"]), []).append(rec)
        for recs in held.values():
            if len({r["id"] for r in recs}) > 1:  # one record listed twice is not equivocation
                for rec in recs:
                    others = sorted({o["id"] for o in recs if o["id"] != rec["id"]})
                    rec["reasons"].append("equivocation: %s also holds %s seq %d" % (
                        ", ".join(others), rec["stream"], rec["seq"]))
        tomb_at = {}
        tomb_ids = {}
        for t in self.tombstones:
            tomb_at.setdefault((t["stream"], t["seq"]), t)
            tomb_ids.setdefault(t["id"], t)
        for rec in self.records:
            t = tomb_at.get((rec["stream"], rec["seq"]))
            if t is not None and rec["seq"] is not None:
                if t["id"] == rec["id"]:
                    rec["reasons"].append("the tombstone of line %d says this record was "
                                          "purged" % t["line"])
                else:
                    rec["reasons"].append("the tombstone of line %d claims %s seq %d for "
                                          "record %s" % (t["line"], rec["stream"], rec["seq"],
                                                         short(t["id"], 16)))
            elif rec["id"] is not None and rec["id"] in tomb_ids:
                rec["reasons"].append("the tombstone of line %d says this record was purged"
                                      % tomb_ids[rec["id"]]["line"])
        # verdicts
        for rec in self.records:
            if rec["stream"] is not None and rec["seq"] is not None:
                name = "%s %s seq %d" % (rec["listed"], rec["stream"], rec["seq"])
            else:
                name = "%s (line %d, stream and seq unreadable)" % (short(rec["listed"], 64),
                                                                   rec["line"])
            if rec["reasons"]:
                self.failed += 1
                self.verdicts.append("FAIL %s: %s" % (name, "; ".join(rec["reasons"])))
            else:
                self.ok += 1
                self.verdicts.append("OK   %s" % name)
            # under the verdict, one line per approval the envelope carries (bundle.md 10)
            self.verdicts.extend(rec.get("approval_lines", []))
        # retention note (bundle.md "Retention")
        if self.agreement is not None and self.agreement["retention_days"] is not None \
                and self.header is not None and is_time(self.header["exported_at"]):
            limit = self.agreement["retention_days"] * 86400
            exported = epoch(self.header["exported_at"])
            past = sum(1 for rec in self.records
                       if rec["created"] is not None and exported > epoch(rec["created"]) + limit)
            if past:
                self.notes.append("note: %d record%s past the agreement's retention (counted "
                                  "from created) at the export time; the exporting node had "
                                  "not purged %s yet" % (past, " was" if past == 1
                                                         else "s were",
                                                         "it" if past == 1 else "them"))

    # -- step 13: each stream's sequence -------------------------------------------------------

    def step_sequences(self):
        held = {}
        for rec in self.records:
            if rec["sig_ok"] and rec["stream"] is not None and rec["seq"] is not None:
                held.setdefault(rec["stream"], set()).add(rec["seq"])
        for t in self.tombstones:
            if t["usable"]:  # a tombstone that fails its own checks holds no number
                held.setdefault(t["stream"], set()).add(t["seq"])
        for stream in sorted(held):
            prev = 0
            for n in sorted(held[stream]):
                if n == prev + 2:
                    self.gaps.append("GAP  %s seq %d missing" % (stream, prev + 1))
                elif n > prev + 2:
                    self.gaps.append("GAP  %s seqs %d–%d missing" % (stream, prev + 1, n - 1))
                prev = n

    # -- output --------------------------------------------------------------------------------

    def report(self):
        lines = list(self.out)
        for n, text in self.problems:
            lines.append("BUNDLE line %d: %s" % (n, text) if n is not None else
                         "BUNDLE: %s" % text)
        lines.extend(self.verdicts)
        lines.extend(self.gaps)
        lines.extend(self.notes)
        verified = not self.problems and not self.failed and not self.gaps
        total = self.ok + self.failed
        tombs = len(getattr(self, "tombstones", []))
        summary = "%d record%s: %d ok, %d failed; %d tombstone%s; %d gap%s; " % (
            total, "" if total == 1 else "s", self.ok, self.failed, tombs,
            "" if tombs == 1 else "s", len(self.gaps), "" if len(self.gaps) == 1 else "s")
        if self.problems:
            summary += "%d bundle problem%s; " % (len(self.problems),
                                                  "" if len(self.problems) == 1 else "s")
        summary += "bundle verified" if verified else "bundle FAILED"
        lines.append(summary)
        return lines, verified


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: verify_bundle.py BUNDLE_FILE", file=sys.stderr)
        return 2
    if tomllib is None:
        print("error: this verifier needs Python 3.11 or later (the tomllib module)",
              file=sys.stderr)
        return 3
    if Ed25519PublicKey is None:
        print("error: this verifier needs the `cryptography` package", file=sys.stderr)
        return 3
    try:
        with open(argv[1], "rb") as f:
            data = f.read()
    except OSError as e:
        print("error: cannot read %s: %s" % (argv[1], e), file=sys.stderr)
        return 3
    v = Verifier(data)
    try:
        v.run()
    except Exception as e:  # last resort: never a traceback
        v.problem(None, "the bundle could not be checked: %s: %s" % (type(e).__name__, e))
    lines, verified = v.report()
    for line in lines:
        print(line)
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
