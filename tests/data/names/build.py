#!/usr/bin/env python3
"""Build pairs.tsv (labelled person-name pairs) from names.tsv.

Reads only names.tsv beside this file; needs nothing beyond Python 3.
Deterministic: fixed seed, so `python3 build.py` rewrites the same file.
Run `python3 build.py --check` to validate pairs.tsv and print the counts.
"""
import datetime as dt
import difflib
import random
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 7311
GROUPS = ["fa", "ar", "ur-ps", "tr", "el", "cyrl"]
TOTAL = {"fa": 200, "ar": 205, "ur-ps": 185, "tr": 185, "el": 195, "cyrl": 235,
         "latn": 170}
POS_SHARE = 0.57
SCRIPT = {"fa": "Persian script", "ar": "Arabic script",
          "ur-ps": "Urdu/Pashto script", "tr": "Turkish orthography",
          "el": "Greek script", "cyrl": "Cyrillic"}
SYSNAME = {"elot": "ELOT 743/passport", "press": "English press",
           "classic": "scholarly", "de": "German", "fr": "French",
           "icao": "ICAO 9303", "mvd": "old Russian passport",
           "bgn": "BGN/PCGN", "kmu": "Ukrainian 2010 system",
           "rusg": "Russian-style g", "fold": "ASCII", "en": "English sh/ch",
           "alt": "Arabic-style", "tr": "Turkish letters", "hand": "variant spelling"}
# pairs of different names that are spelling variants of one word: never
# used as negatives
NOT_NEGATIVE = [{"Aslan", "Arslan"}]


# ------------------------------------------------------------------ names
class Tok:
    def __init__(self, row):
        (self.group, self.kind, self.gender, self.native, latin, self.partner,
         self.src, self.by) = row
        self.sys = {}      # system -> spelling (rules rows)
        self.spell = []    # distinct spellings, most usual first
        for part in latin.split("|"):
            if "=" in part:
                systems, sp = part.split("=", 1)
                for s in systems.split(","):
                    self.sys[s] = sp
            else:
                sp = part
            if sp not in self.spell:
                self.spell.append(sp)
        self.folded = {fold(x) for x in self.spell}
        self.sub = "uk" if self.src == "faker:uk_UA" else (
            "tg" if self.group == "cyrl" and self.by == "hand" else "ru")

    def latin(self, system, k):
        """Spelling under a system; hand rows use spelling k."""
        if self.sys:
            if system in self.sys:
                return self.sys[system], system
            first = next(iter(self.sys))
            return self.sys[first], first
        return self.spell[k % len(self.spell)], "hand"

    def __repr__(self):
        return self.native


def fold(s):
    s = s.replace("ı", "i").replace("İ", "I")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return "".join(c for c in s.lower() if c.isalnum())


def load():
    toks = defaultdict(list)
    with open(HERE / "names.tsv", encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if not l.startswith("#")]
    for l in lines[1:]:
        t = Tok(l.split("\t"))
        toks[(t.group, t.kind)].append(t)
    return toks


# --------------------------------------------------------------- persons
class Person:
    def __init__(self, group, gender, given, family, middle=None, mkind=None,
                 dob=None):
        self.group, self.gender = group, gender
        self.given, self.family = given, family
        self.middle, self.mkind = middle, mkind   # mkind: father/patronymic/second/muhammad
        self.dob = dob


def rand_dob(rng):
    d0 = dt.date(1958, 1, 1).toordinal()
    d1 = dt.date(2007, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(d0, d1))


def make_person(rng, toks, group, sub=None):
    gender = rng.choice("mmmf")
    if group == "cyrl":
        sub = sub or rng.choice(["ru", "ru", "ru", "uk", "uk", "tg"])
        givens = [t for t in toks[("cyrl", "given")] if t.sub == sub]
        if not any(t.gender == gender for t in givens):
            gender = "m"
        given = rng.choice([t for t in givens if t.gender == gender])
        fams = [t for t in toks[("cyrl", "family")] if t.sub == sub and
                t.gender in (gender, "u")]
        fam = rng.choice(fams)
        pats = [t for t in toks[("cyrl", "patronymic")] if t.sub == sub and
                t.gender == gender]
        mid = rng.choice(pats) if pats and rng.random() < 0.75 else None
        return Person(group, gender, given, fam, mid, "patronymic" if mid else None,
                      rand_dob(rng))
    givens = [t for t in toks[(group, "given")] if t.gender == gender]
    given = rng.choice(givens)
    fam = rng.choice([t for t in toks[(group, "family")] if t.gender in (gender, "u")])
    mid, mk = None, None
    if group == "ar" and rng.random() < 0.6:
        mid = rng.choice([t for t in toks[("ar", "given")] if t.gender == "m"])
        mk = "father"
    elif group == "tr" and rng.random() < 0.35:
        mid = rng.choice([t for t in givens if t is not given])
        mk = "second"
    elif group == "ur-ps" and gender == "m" and rng.random() < 0.3:
        muh = [t for t in givens if t.spell[0] == "Muhammad"][0]
        if given is not muh:
            mid, mk = muh, "muhammad"
    return Person(group, gender, given, fam, mid, mk, rand_dob(rng))


def clone(p, **kw):
    q = Person(p.group, p.gender, p.given, p.family, p.middle, p.mkind, p.dob)
    for k, v in kw.items():
        setattr(q, k, v)
    return q


# -------------------------------------------------------------- rendering
AR_MARKS = {chr(c) for c in range(0x064B, 0x0653)}


def native_variant(s, group, how):
    if how == "plain":
        return s
    if group == "fa" or group == "ur-ps":
        if how == "arabic-letters":
            s = s.replace("ی", "ي").replace("ک", "ك")
            if group == "ur-ps":
                s = s.replace("ہ", "ه")
        return s
    if group == "ar":
        s = "".join(c for c in s if c not in AR_MARKS)
        s = s.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
        if s.endswith("ة"):
            s = s[:-1] + "ه"
        return s
    if group == "el":
        s = unicodedata.normalize("NFD", s)
        s = "".join(c for c in s if c != "\u0301")
        s = unicodedata.normalize("NFC", s)
        return s.upper() if how == "upper" else s
    if group == "cyrl":
        s = s.replace("ё", "е")
        return s.upper() if how == "upper" else s
    return s


def passport(s):
    s = s.replace("ı", "i").replace("İ", "I")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    for ch in "'’”‘":
        s = s.replace(ch, "")
    s = s.replace("-", " ")
    return " ".join(s.upper().split())


def render(p, **sd):
    sd = passport_system(p, dict(sd))
    return render1(p, **sd)


def render1(p, script="latin", system="elot", ks=(0, 0, 0), order="gf",
            drop=False, case="title", nvar="plain"):
    """Return the name string as one record would hold it."""
    parts_g, parts_m, parts_f = [], [], []

    def one(t, k):
        if script == "native":
            return native_variant(t.native, p.group, nvar)
        return t.latin(system, k)[0]

    g = one(p.given, ks[0])
    f = one(p.family, ks[2])
    m = one(p.middle, ks[1]) if (p.middle is not None and not drop) else None
    if p.mkind == "muhammad" and m:
        first = [m, g]
        m = None
    elif p.mkind == "second" and m:
        first = [g, m]
        m = None
    else:
        first = [g]
    if p.mkind == "patronymic" and m:
        rest = [m]
    elif p.mkind == "father" and m:
        rest = [m]
    else:
        rest = []
    if p.group == "cyrl" and order == "fg":
        words = [f] + first + rest          # Иванов Иван Петрович
    elif order == "fg":
        words = [f] + first + rest
    elif order == "fcg":
        words = [f.upper() + ","] + first + rest
    else:
        words = first + rest + [f]
    s = " ".join(words)
    if case == "passport":
        s = passport(s.replace(",", ""))
    elif case == "upper":
        s = s.upper()
    return s


# -------------------------------------------------------------- dates
def dfmt(d, how, rng=None):
    if how == "full":
        return d.isoformat()
    if how == "year":
        return "%04d" % d.year
    if how == "month":
        return "%04d-%02d" % (d.year, d.month)
    return ""


POS_DATES = [("full", "full", 25), ("full", "year", 20), ("year", "full", 10),
             ("full", "", 10), ("", "full", 5), ("", "", 8), ("year", "year", 10),
             ("full", "month", 7), ("month", "year", 5)]


def pick(rng, items):
    tot = sum(w for *_, w in items)
    x = rng.uniform(0, tot)
    for it in items:
        x -= it[-1]
        if x <= 0:
            return it[:-1]
    return items[-1][:-1]


def date_note(a, b):
    if not a and not b:
        return "no dates of birth"
    if not a or not b:
        return "date of birth missing on one side"
    if a == b:
        return "same date of birth"
    return "date of birth %s vs %s" % (
        {4: "year", 7: "year-month", 10: "full date"}[len(a)],
        {4: "year", 7: "year-month", 10: "full date"}[len(b)])


def pos_dates(rng, d):
    x, y = pick(rng, POS_DATES)
    return dfmt(d, x), dfmt(d, y)


def disagree_dates(rng, d):
    kind = pick(rng, [("years", 55), ("yearonly", 20), ("sameyear", 25)])[0]
    if kind == "sameyear":
        while True:
            e = dt.date(d.year, rng.randint(1, 12), rng.randint(1, 28))
            if abs(e.month - d.month) >= 2:
                break
        return d.isoformat(), e.isoformat(), "same name, born %s vs %s" % (
            d.isoformat(), e.isoformat())
    delta = rng.choice([-1, 1]) * rng.randint(3, 14)
    y = min(2008, max(1950, d.year + delta))
    if y == d.year:
        y = d.year + 5
    e = dt.date(y, rng.randint(1, 12), rng.randint(1, 28))
    if kind == "yearonly":
        a, b = ("%04d" % d.year, e.isoformat()) if rng.random() < .5 else (
            d.isoformat(), "%04d" % y)
    else:
        a, b = d.isoformat(), e.isoformat()
    return a, b, "same name, born %d vs %d" % (d.year, y)


def neg_dates(rng, d1, d2):
    r = rng.random()
    if r < 0.25:
        return d1.isoformat(), d1.isoformat(), "same date of birth"
    if r < 0.5:
        a, b = pos_dates(rng, d1)
        return a, b, date_note(a, b)
    a = dfmt(d1, rng.choice(["full", "full", "year", ""]))
    b = dfmt(d2, rng.choice(["full", "full", "year", ""]))
    return a, b, date_note(a, b)


# -------------------------------------------------------------- similarity
def similar(tok, pool, rng, gender=None):
    best = []
    a = fold(tok.spell[0])
    for t in pool:
        if t is tok or t.native == tok.native or (t.folded & tok.folded):
            continue
        if gender and t.gender not in (gender, "u"):
            continue
        if any({tok.spell[0], t.spell[0]} == s for s in NOT_NEGATIVE):
            continue
        b = fold(t.spell[0])
        r = difflib.SequenceMatcher(None, a, b).ratio()
        if a.startswith(b) or b.startswith(a):
            r = max(r, 0.8)
        best.append((r, b, t))
    best.sort(key=lambda x: (-x[0], x[1]))
    best = [x for x in best[:4] if x[0] >= 0.55]
    return rng.choice(best)[2] if best else None


# -------------------------------------------------------------- one side
SYSTEMS = {"el": ["elot", "press", "classic", "de", "fr"],
           "cyrl": ["icao", "mvd", "bgn", "press", "de", "fr", "kmu", "rusg"],
           "tr": ["fold", "de", "en", "alt"]}


def rand_side(rng, p, script):
    sysl = SYSTEMS.get(p.group, ["hand"])
    system = rng.choice(sysl)
    if p.group == "cyrl":
        system = rng.choice({"ru": ["icao", "mvd", "bgn", "press", "de", "fr"],
                             "uk": ["kmu", "press", "de", "fr", "rusg"],
                             "tg": ["hand"]}[p.given.sub])
    if p.group == "tr" and script == "latin" and system == "alt" and \
            "alt" not in p.given.sys:
        system = "fold"
    return dict(script=script, system=system,
                ks=(rng.randrange(6), rng.randrange(6), rng.randrange(6)),
                order=rng.choice(["gf", "gf", "gf", "fg"]), drop=False,
                case="title",
                nvar=rng.choice({"fa": ["plain", "plain", "arabic-letters"],
                                 "ur-ps": ["plain", "plain", "arabic-letters"],
                                 "ar": ["plain", "strip"],
                                 "el": ["plain", "plain", "noaccent", "upper"],
                                 "cyrl": ["plain", "plain", "upper"],
                                 "tr": ["plain"]}[p.group]))


def passport_system(p, sd):
    """Passports use one system per country: force it when case=passport."""
    if sd["script"] != "latin" or sd["case"] != "passport":
        return sd
    sub = p.given.sub
    if p.group == "el":
        sd["system"] = "elot"
    elif p.group == "cyrl" and sub == "ru" and sd["system"] not in ("icao", "mvd"):
        sd["system"] = "icao"
    elif p.group == "cyrl" and sub == "uk":
        sd["system"] = "kmu"
    elif p.group == "tr":
        sd["system"] = "fold"
    return sd


def side_desc(p, sd):
    sd = passport_system(p, dict(sd))
    if sd["script"] == "native":
        d = SCRIPT[p.group]
        if sd["nvar"] == "arabic-letters":
            d += " (Arabic letter forms)"
        elif sd["nvar"] == "strip":
            d += " (no hamza/shadda)"
        elif sd["nvar"] == "upper":
            d += " (upper case)"
        elif sd["nvar"] == "noaccent":
            d += " (no accents)"
    else:
        if p.group == "tr" and sd["system"] == "tr":
            d = "Turkish orthography"
        else:
            d = "Latin " + SYSNAME.get(sd["system"], sd["system"])
        if sd["case"] == "passport":
            d = "passport form"
        elif sd["case"] == "upper":
            d += " upper case"
    return d


def pair_desc(p, A, q, B, a, b):
    """'X vs Y', or 'same spelling' when two Latin sides spell alike."""
    if A["script"] == B["script"] == "latin":
        wa = sorted(w.strip(",").lower() for w in a.split())
        wb = sorted(w.strip(",").lower() for w in b.split())
        if set(wa) & set(wb) and all(fold(x) == fold(y) for x, y in zip(wa, wb)) \
                and len(wa) == len(wb):
            ca, cb = A["case"], B["case"]
            if ca == cb == "title" and wa == wb:
                return "same spelling"
            if A["case"] == "title" and B["case"] != "title":
                return "same spelling, %s" % side_desc(q, B).split(" upper")[0] \
                    if B["case"] == "passport" else "same spelling, upper case"
            if wa == wb:
                return "same spelling, case differs"
            return "same spelling apart from diacritics"
    return "%s vs %s" % (side_desc(p, A), side_desc(q, B))


# -------------------------------------------------------------- pairs
class Builder:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.toks = load()
        self.rows = []
        self.seen = set()

    def add(self, a, ab, b, bb, same, group, note):
        a, b = " ".join(a.split()), " ".join(b.split())
        if not a or not b or a == b and ab == bb:
            return False
        key = (a, b)
        if key in self.seen or (b, a) in self.seen:
            return False
        self.seen.add(key)
        self.rows.append([a, ab, b, bb, str(same), group, note])
        return True

    # ----- positives
    def positive(self, group):
        rng = self.rng
        kind = rng.choice(["nat-lat", "lat-nat", "lat-lat", "nat-pass",
                           "swap", "drop", "nat-nat"] +
                          (["tr-fold", "tr-fold"] if group == "tr" else []))
        p = make_person(rng, self.toks, group)
        if kind == "drop" and p.middle is None:
            kind = "swap"
        A = rand_side(rng, p, "native")
        B = rand_side(rng, p, "latin")
        notes = []
        if kind == "nat-lat":
            pass
        elif kind == "lat-nat":
            A, B = B, A
        elif kind == "lat-lat":
            A = rand_side(rng, p, "latin")
            for _ in range(12):
                if render(p, **A) != render(p, **B):
                    break
                B = rand_side(rng, p, "latin")
            B["order"] = A["order"]
        elif kind == "nat-pass":
            B["case"] = "passport"
            B["order"] = rng.choice(["fg", "gf"])
            if group == "el":
                B["system"] = "elot"
            if group == "cyrl" and p.given.sub == "ru":
                B["system"] = rng.choice(["icao", "mvd"])
            if group == "cyrl" and p.given.sub == "uk":
                B["system"] = "kmu"
            if group == "tr":
                B["system"] = "fold"
        elif kind == "swap":
            A = rand_side(rng, p, rng.choice(["native", "latin"]))
            B = rand_side(rng, p, "latin")
            A["order"], B["order"] = "gf", rng.choice(["fg", "fcg"])
            if rng.random() < .5:
                A, B = B, A
            notes.append("given and family name swapped")
        elif kind == "drop":
            A = rand_side(rng, p, rng.choice(["native", "latin"]))
            B = rand_side(rng, p, "latin")
            B["drop"] = True
            notes.append({"father": "father's name missing on one side",
                          "patronymic": "patronymic missing on one side",
                          "second": "second given name missing on one side",
                          "muhammad": "leading Muhammad missing on one side"}[p.mkind])
            if rng.random() < .5:
                A, B = B, A
        elif kind == "nat-nat":
            A = rand_side(rng, p, "native")
            B = rand_side(rng, p, "native")
            opts = {"fa": ["plain", "arabic-letters"], "ur-ps": ["plain", "arabic-letters"],
                    "ar": ["plain", "strip"], "el": ["plain", "noaccent", "upper"],
                    "cyrl": ["plain", "upper"], "tr": ["plain"]}[group]
            if len(opts) > 1:
                A["nvar"], B["nvar"] = rng.sample(opts, 2)
            else:
                B = rand_side(rng, p, "latin")
                B["case"] = "upper"
            if A["order"] == B["order"] and rng.random() < .5:
                B["order"] = "fg" if A["order"] == "gf" else "gf"
        elif kind == "tr-fold":
            A = rand_side(rng, p, "latin")
            A["system"] = "tr"
            B = rand_side(rng, p, "latin")
            B["system"] = rng.choice(["fold", "de", "en"])
            B["order"] = A["order"]
            B["case"] = rng.choice(["title", "passport"])
        if A["order"] != B["order"] and "given and family name swapped" not in notes:
            notes.append("name order differs")
        a, b = render(p, **A), render(p, **B)
        if a == b:
            return False
        ab, bb = pos_dates(rng, p.dob)
        note = "; ".join([pair_desc(p, A, p, B, a, b)] + notes + [date_note(ab, bb)])
        return self.add(a, ab, b, bb, 1, group, note)

    # ----- negatives
    def negative(self, group):
        rng = self.rng
        kinds = [("fam", 30), ("given", 25), ("dates", 17), ("easy", 9)]
        if group in ("el", "cyrl"):
            kinds.append(("gender", 12))
        if group in ("ar", "cyrl"):
            kinds.append(("middle", 10))
        kind = pick(rng, kinds)[0]
        p = make_person(rng, self.toks, group)
        q = None
        note = ""
        if kind == "fam":
            pool = self.toks[(group, "family")]
            if group == "cyrl":
                pool = [t for t in pool if t.sub == p.given.sub]
            t = similar(p.family, pool, rng, p.gender)
            if t:
                q = clone(p, family=t, dob=rand_dob(rng))
                note = "different family name (%s vs %s), same given name" % (
                    p.family.spell[0], t.spell[0])
        elif kind == "given":
            pool = self.toks[(group, "given")]
            if group == "cyrl":
                pool = [t for t in pool if t.sub == p.given.sub]
            t = similar(p.given, pool, rng, p.gender)
            if t:
                q = clone(p, given=t, dob=rand_dob(rng))
                if q.middle is t:
                    q.middle = None
                    q.mkind = None
                note = "different given name (%s vs %s), same family name" % (
                    p.given.spell[0], t.spell[0])
        elif kind == "gender":
            withp = [t for t in self.toks[(group, "given")] if t.partner and
                     t.sub == p.given.sub and t.gender == p.gender]
            if withp and rng.random() < 0.7:
                p.given = rng.choice(withp)
            byn = {t.native: t for t in self.toks[(group, "family")]}
            if p.family.partner and p.family.partner in byn:
                fam2 = byn[p.family.partner]
                gby = {t.native: t for t in self.toks[(group, "given")]}
                g2 = gby.get(p.given.partner)
                ng = "f" if p.gender == "m" else "m"
                if g2 is None:
                    g2 = rng.choice([t for t in self.toks[(group, "given")]
                                     if t.gender == ng and t.sub == p.given.sub])
                mid2 = None
                if p.middle is not None:
                    pats = [t for t in self.toks[(group, "patronymic")]
                            if t.gender == ng and t.sub == p.given.sub and
                            fold(t.spell[0])[:5] == fold(p.middle.spell[0])[:5]]
                    mid2 = pats[0] if pats else None
                q = Person(group, ng, g2, fam2, mid2, "patronymic" if mid2 else None,
                           rand_dob(rng))
                note = "male vs female form of family name (%s vs %s): different people" % (
                    p.family.spell[0] if p.gender == "m" else fam2.spell[0],
                    fam2.spell[0] if p.gender == "m" else p.family.spell[0])
                if p.given.partner:
                    note += ", given names %s vs %s" % (p.given.spell[0], g2.spell[0])
        elif kind == "middle":
            if p.middle is None:
                if group == "ar":
                    p.middle = rng.choice([t for t in self.toks[("ar", "given")]
                                           if t.gender == "m"])
                    p.mkind = "father"
                else:
                    pats = [t for t in self.toks[("cyrl", "patronymic")]
                            if t.sub == p.given.sub and t.gender == p.gender]
                    if pats:
                        p.middle = rng.choice(pats)
                        p.mkind = "patronymic"
            if p.middle is not None:
                pool = (self.toks[("ar", "given")] if group == "ar" else
                        [t for t in self.toks[("cyrl", "patronymic")]
                         if t.sub == p.given.sub])
                t = similar(p.middle, pool, rng, p.middle.gender) or rng.choice(
                    [t for t in pool if t.gender == p.middle.gender and t is not p.middle])
                q = clone(p, middle=t, dob=rand_dob(rng))
                note = "same given and family name, different %s (%s vs %s)" % (
                    "father's name" if group == "ar" else "patronymic",
                    p.middle.spell[0], t.spell[0])
        elif kind == "easy":
            q = make_person(rng, self.toks, group,
                            sub=p.given.sub if group == "cyrl" else None)
            if q.family.native == p.family.native or q.given.native == p.given.native:
                q = None
            note = "different name (easy)"
        if kind == "dates":
            A = rand_side(rng, p, rng.choice(["native", "latin"]))
            B = rand_side(rng, p, "latin")
            if rng.random() < .3:
                B["case"] = "passport"
            a, b = render(p, **A), render(p, **B)
            ab, bb, dn = disagree_dates(rng, p.dob)
            note = "; ".join([pair_desc(p, A, p, B, a, b),
                              "dates of birth disagree", dn])
            return self.add(a, ab, b, bb, 0, group, note)
        if q is None:
            return False
        A = rand_side(rng, p, rng.choice(["native", "latin", "latin"]))
        B = rand_side(rng, q, rng.choice(["native", "latin", "latin"]))
        B["order"] = A["order"] if rng.random() < .7 else B["order"]
        if B["script"] == "latin" and rng.random() < .2:
            B["case"] = "passport"
        a, b = render(p, **A), render(q, **B)
        ab, bb, dn = neg_dates(rng, p.dob, q.dob)
        note = "; ".join([note, pair_desc(p, A, q, B, a, b), dn])
        return self.add(a, ab, b, bb, 0, group, note)

    # ----- Latin-only structural variation
    def latn(self, same):
        rng = self.rng
        group = rng.choice(GROUPS)
        p = make_person(rng, self.toks, group)
        A = rand_side(rng, p, "latin")
        if group == "tr":
            A["system"] = rng.choice(["tr", "fold"])
        if same:
            B = dict(A)
            ops = rng.sample(["swap", "comma", "upper", "passport", "drop"], 2)
            if p.middle is None and "drop" in ops:
                ops.remove("drop")
            if not ops:
                ops = ["swap"]
            notes = []
            if "upper" in ops and "passport" in ops:
                ops.remove("upper")
            for op in ops:
                if op == "swap":
                    B["order"] = "fg" if A["order"] == "gf" else "gf"
                    notes.append("given and family name swapped")
                elif op == "comma":
                    B["order"] = "fcg"
                    notes.append("'FAMILY, Given' form")
                elif op == "upper":
                    B["case"] = "upper"
                    notes.append("upper case")
                elif op == "passport":
                    B["case"] = "passport"
                    notes.append("passport upper case without diacritics or hyphens")
                elif op == "drop":
                    B["drop"] = True
                    notes.append("middle name/patronymic missing on one side")
            a, b = render(p, **A), render(p, **B)
            ab, bb = pos_dates(rng, p.dob)
            return self.add(a, ab, b, bb, 1, "latn",
                            "; ".join(notes + ["same spelling", date_note(ab, bb)]))
        kind = pick(rng, [("fam", 35), ("given", 30), ("dates", 25), ("order", 10)])[0]
        B = dict(A)
        B["order"] = rng.choice(["gf", "fg", "fcg"])
        B["case"] = rng.choice(["title", "title", "passport"])
        if kind == "dates":
            a, b = render(p, **A), render(p, **B)
            ab, bb, dn = disagree_dates(rng, p.dob)
            return self.add(a, ab, b, bb, 0, "latn",
                            "same spelling; dates of birth disagree; " + dn)
        if kind == "order":
            # given and family reversed but they are different people:
            # "Ali Hasan" vs "Hasan Ali" is only a swap if both are names in
            # both positions; here given differs from the family token.
            pool = self.toks[(group, "family")]
            if group == "cyrl":
                pool = [t for t in pool if t.sub == p.given.sub]
            t = similar(p.family, pool, rng, p.gender)
            if not t:
                return False
            q = clone(p, family=t, dob=rand_dob(rng))
            B["order"] = "fg" if A["order"] == "gf" else "gf"
            note = "different family name (%s vs %s), order also swapped" % (
                p.family.spell[0], t.spell[0])
        else:
            kk = "family" if kind == "fam" else "given"
            cur = p.family if kind == "fam" else p.given
            pool = self.toks[(group, kk)]
            if group == "cyrl":
                pool = [t for t in pool if t.sub == p.given.sub]
            t = similar(cur, pool, rng, p.gender)
            if not t:
                return False
            q = clone(p, **{kk: t}, dob=rand_dob(rng))
            if q.middle is t:
                q.middle, q.mkind = None, None
            note = "different %s name (%s vs %s)" % (kk, cur.spell[0], t.spell[0])
        a, b = render(p, **A), render(q, **B)
        ab, bb, dn = neg_dates(rng, p.dob, q.dob)
        return self.add(a, ab, b, bb, 0, "latn", "; ".join([note, dn]))

    def run(self):
        for group in GROUPS + ["latn"]:
            npos = round(TOTAL[group] * POS_SHARE)
            nneg = TOTAL[group] - npos
            for same, n in ((1, npos), (0, nneg)):
                got = 0
                tries = 0
                while got < n:
                    tries += 1
                    assert tries < 50 * n, (group, same)
                    if group == "latn":
                        ok = self.latn(same)
                    elif same:
                        ok = self.positive(group)
                    else:
                        ok = self.negative(group)
                    got += bool(ok)
        with open(HERE / "pairs.tsv", "w", encoding="utf-8", newline="\n") as f:
            f.write("a\ta_born\tb\tb_born\tsame\tgroup\tnote\n")
            for r in self.rows:
                f.write("\t".join(r) + "\n")


# -------------------------------------------------------------- checks
def valid_date(s):
    if s == "":
        return True
    try:
        if len(s) == 4:
            return 1900 < int(s) < 2030 and s.isdigit()
        if len(s) == 7:
            dt.date(int(s[:4]), int(s[5:7]), 1)
            return s[4] == "-"
        if len(s) == 10:
            dt.date.fromisoformat(s)
            return True
    except ValueError:
        return False
    return False


def check():
    raw = (HERE / "pairs.tsv").read_bytes()
    assert b"\r" not in raw
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert lines[0] == "a\ta_born\tb\tb_born\tsame\tgroup\tnote"
    seen = set()
    cnt = Counter()
    for i, l in enumerate(lines[1:], 2):
        f = l.split("\t")
        assert len(f) == 7, (i, l)
        a, ab, b, bb, same, group, note = f
        assert a.strip() and b.strip() and note, i
        assert valid_date(ab) and valid_date(bb), (i, ab, bb)
        assert same in ("0", "1"), i
        assert group in GROUPS + ["latn"], i
        assert (a, b) not in seen and (b, a) not in seen, (i, a, b)
        seen.add((a, b))
        cnt[(group, same)] += 1
    tot_p = sum(v for (g, s), v in cnt.items() if s == "1")
    tot = sum(cnt.values())
    print("| group | pairs | positives | negatives |")
    print("|---|---:|---:|---:|")
    for g in GROUPS + ["latn"]:
        p, n = cnt[(g, "1")], cnt[(g, "0")]
        print("| %s | %d | %d | %d |" % (g, p + n, p, n))
    print("| all | %d | %d (%.1f%%) | %d (%.1f%%) |" % (
        tot, tot_p, 100 * tot_p / tot, tot - tot_p, 100 * (tot - tot_p) / tot))
    return cnt


if __name__ == "__main__":
    if "--check" not in sys.argv:
        Builder().run()
    check()
