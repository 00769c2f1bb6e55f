"""Generates cases/operators-*.json: one boolean flag per condition, a single rule "r"
serving "on", fallthrough "off". A match is {true, on, TARGETING_MATCH, ruleId r}; no
match is {false, off, DEFAULT}. Every expectation below is written by hand from §6."""
from gen_common import NOW, E, boolflag, case, j, ms, snapshot, write

MISSING = object()
MATCH = E(True, "on", "TARGETING_MATCH", ruleId="r")
NOMATCH = E(False, "off", "DEFAULT")
T, F = True, False


class Ctx:
    """A full context (instead of a single attribute value)."""

    def __init__(self, ctx):
        self.ctx = ctx


def cond(attr, op, value=MISSING, values=MISSING, ci=None):
    c = {"attribute": attr, "op": op}
    if value is not MISSING:
        c["value"] = value
    if values is not MISSING:
        c["values"] = values
    if ci is not None:
        c["caseInsensitive"] = ci
    return c


def opfile(fname, desc, rev, groups):
    flags, cases = {}, []
    for key, cnd, rows in groups:
        assert key not in flags, key
        flags[key] = boolflag(fallthrough={"variant": "off"},
                              rules=[{"id": "r", "when": cnd, "serve": {"variant": "on"}}])
        attr = cnd.get("attribute")
        for row in rows:
            val, exp = row[0], row[1]
            note = row[2] if len(row) > 2 else ""
            if isinstance(val, Ctx):
                ctx = val.ctx
                shown = j(ctx)
            elif val is MISSING:
                ctx = {"targetingKey": "u-1"}
                shown = "%s absent" % attr
            else:
                ctx = {"targetingKey": "u-1", attr: val}
                shown = "%s=%s" % (attr, j(val))
            name = "%s: %s → %s" % (key, shown, "match" if exp else "no match")
            if note:
                name += " (%s)" % note
            cases.append(case(name, key, MATCH if exp else NOMATCH, ctx))
    return write(fname, desc, snapshot(rev, flags), cases)


def equality():
    G = [
        ("eq-str", cond("country", "equals", "DE"), [
            ("DE", T), ("de", F, "case-sensitive"), ("DE ", F, "no trimming"), ("D", F),
            (1, F, "a number never equals a string"), (True, F),
            (["AT", "DE"], T, "array attribute: true for some element"),
            (["AT", "CH"], F), ([], F, "empty array: no element"),
            (MISSING, F), (None, F, "null counts as missing")]),
        ("eq-ci", cond("country", "equals", "de", ci=True), [
            ("DE", T), ("De", T), ("de", T), ("DEU", F), (["at", "DE"], T)]),
        ("eq-ci-false", cond("country", "equals", "de", ci=False), [
            ("DE", F, "caseInsensitive false is the default"), ("de", T)]),
        ("eq-ci-umlaut", cond("word", "equals", "ÄRGER", ci=True), [
            ("ärger", T), ("Ärger", T), ("ARGER", F, "Ä is not A")]),
        ("eq-ci-sharp-s", cond("street", "equals", "straße", ci=True), [
            ("STRAßE", T), ("Straße", T),
            ("STRASSE", F, "Unicode lowercasing does not fold ß to ss"),
            ("strasse", F)]),
        ("eq-ci-cyrillic", cond("city", "equals", "Москва", ci=True), [
            ("МОСКВА", T), ("москва", T), ("Moskva", F)]),
        ("eq-unicode-exact", cond("name", "equals", "café"), [
            ("café", T), ("cafe\u0301", F, "no Unicode normalisation: e + U+0301 differs from é"),
            ("CAFÉ", F)]),
        ("eq-num", cond("seats", "equals", 1), [
            (1, T), (1.0, T, "numbers compare numerically"), ("1", F, "a string is not a number"),
            (True, F, "a boolean is not a number"), (2, F), (1.5, F), ([3, 1], T)]),
        ("eq-num-decimal", cond("seats", "equals", 1.0), [
            (1, T, "1.0 in the snapshot equals 1"), (1.0, T), (1.01, F)]),
        ("eq-num-frac", cond("ratio", "equals", 0.5), [(0.5, T), (0.25, F), ("0.5", F)]),
        ("eq-num-negative", cond("delta", "equals", -3), [(-3, T), (-3.0, T), (3, F)]),
        ("eq-str-digit", cond("seats", "equals", "1"), [
            ("1", T), (1, F, "a number never equals a string"), (1.0, F),
            ("1.0", F, "strings compare exactly"), ("01", F)]),
        ("eq-bool", cond("beta", "equals", True), [
            (True, T), (False, F), ("true", F, "a string is not a boolean"),
            (1, F, "a number is not a boolean")]),
        ("eq-bool-false", cond("beta", "equals", False), [
            (False, T), (0, F, "0 is not false"), ("", F, "the empty string is not false"),
            (None, F, "null is missing, not false"), (MISSING, F)]),
        ("eq-empty-string", cond("nick", "equals", ""), [
            ("", T), (" ", F), (MISSING, F)]),
        ("eq-targeting-key", cond("targetingKey", "equals", "u-1"), [
            (Ctx({"targetingKey": "u-1"}), T), (Ctx({"targetingKey": "u-2"}), F),
            (Ctx({}), F, "no targetingKey")]),
        ("neq-str", cond("country", "notEquals", "DE"), [
            ("AT", T), ("DE", F), ("de", T, "case-sensitive"),
            (1, T, "a present value of another type is not equal"),
            (MISSING, F, "notEquals is false when the attribute is missing"),
            (None, F, "null counts as missing"),
            (["DE", "DE"], F, "array: no element differs"), (["AT", "CH"], T)]),
        ("neq-ci", cond("country", "notEquals", "de", ci=True), [
            ("DE", F), ("De", F), ("AT", T)]),
        ("neq-num", cond("seats", "notEquals", 1), [
            (1.0, F, "numerically equal"), (1, F), (2, T), (0.5, T)]),
        ("neq-bool", cond("beta", "notEquals", True), [(False, T), (True, F), (MISSING, F)]),
        ("in-str", cond("country", "in", values=["DE", "AT"]), [
            ("AT", T), ("DE", T), ("CH", F), ("de", F, "case-sensitive"),
            (["CH", "AT"], T, "array: some element is in values"), (["CH"], F),
            ([], F), (MISSING, F), (None, F)]),
        ("in-ci", cond("country", "in", values=["de", "at"], ci=True), [
            ("AT", T), ("At", T), ("CH", F), (["ch", "DE"], T)]),
        ("in-ci-unicode", cond("word", "in", values=["über", "ärger"], ci=True), [
            ("ÜBER", T), ("ÄRGER", T), ("UBER", F)]),
        ("in-num", cond("seats", "in", values=[1, 2.5]), [
            (1, T), (1.0, T), (2.5, T), ("1", F), (3, F), (True, F)]),
        ("in-mixed", cond("code", "in", values=["1", 2, True]), [
            ("1", T), (1, F, "the number 1 is not the string \"1\""), (2, T), (2.0, T),
            ("2", F), (True, T), ("true", F), (False, F)]),
        ("in-empty", cond("country", "in", values=[]), [("DE", F), ("", F)]),
        ("notin-str", cond("country", "notIn", values=["DE", "AT"]), [
            ("CH", T), ("DE", F), ("AT", F), ("de", T, "case-sensitive"),
            (MISSING, F, "notIn is false when the attribute is missing"),
            (None, F, "null counts as missing"),
            (["CH", "FR"], T), (["DE", "AT"], F, "array: every element is in values")]),
        ("notin-ci", cond("country", "notIn", values=["de"], ci=True), [
            ("DE", F), ("dE", F), ("CH", T)]),
        ("notin-num", cond("seats", "notIn", values=[1, 2]), [
            (1.0, F, "numerically equal to 1"), (2, F), (3, T)]),
        ("notin-empty", cond("country", "notIn", values=[]), [
            ("DE", T, "nothing is in the empty list"), (MISSING, F)]),
    ]
    return opfile("operators-equality.json",
                  "equals / notEquals / in / notIn: exact strings, caseInsensitive (Unicode "
                  "lowercasing, not case folding), numbers compared numerically (1 = 1.0 ≠ \"1\"), "
                  "booleans, array-valued attributes, missing/null attributes (notEquals/notIn "
                  "false when missing).", 101, G)


def strings():
    G = [
        ("contains", cond("app", "contains", "beta"), [
            ("my-beta-app", T), ("beta", T), ("BETA", F, "case-sensitive"), ("bet", F),
            (42, F, "a number is not a string"), (True, F),
            (["x", "xbetax"], T, "array: some element"), (["x", "y"], F), (MISSING, F)]),
        ("contains-ci", cond("app", "contains", "BeTa", ci=True), [
            ("MYBETA", T), ("my-beta", T), ("alphabet", F)]),
        ("contains-empty", cond("app", "contains", ""), [
            ("", T, "every string contains the empty string"), ("x", T),
            (0, F, "a number is not a string")]),
        ("contains-umlaut", cond("name", "contains", "ü"), [
            ("Müller", T), ("Muller", F), ("MÜLLER", F, "case-sensitive")]),
        ("contains-ci-umlaut", cond("name", "contains", "ÜBER", ci=True), [
            ("überall", T), ("Überall", T), ("uber", F)]),
        ("contains-emoji", cond("title", "contains", "🚀"), [
            ("launch🚀now", T), ("launch", F)]),
        ("starts", cond("id", "startsWith", "u-"), [
            ("u-1", T), ("u-", T), ("U-1", F, "case-sensitive"), ("xu-1", F), ("u", F),
            (12, F, "a number is not a string")]),
        ("starts-ci", cond("id", "startsWith", "U-", ci=True), [("u-1", T), ("U-1", T), ("v-1", F)]),
        ("starts-cjk", cond("lang", "startsWith", "日本"), [("日本語", T), ("語日本", F)]),
        ("starts-ci-accent", cond("school", "startsWith", "ÉCOLE", ci=True), [
            ("école normale", T), ("ECOLE normale", F, "É lowercases to é, not e")]),
        ("ends", cond("email", "endsWith", "@pennon.dev"), [
            ("ana@pennon.dev", T), ("@pennon.dev", T), ("ana@PENNON.DEV", F, "case-sensitive"),
            ("ana@pennon.dev.evil.com", F), (["a@b.c", "z@pennon.dev"], T)]),
        ("ends-ci", cond("email", "endsWith", "@Pennon.Dev", ci=True), [
            ("ANA@PENNON.DEV", T), ("ana@pennon.de", F)]),
        ("ends-emoji", cond("title", "endsWith", "🚀"), [("go🚀", T), ("🚀go", F)]),
        ("ends-precomposed", cond("word", "endsWith", "é"), [
            ("café", T), ("cafe\u0301", F, "no normalisation: e + U+0301")]),
        ("matches-anchored", cond("id", "matches", "^u-\\d+$"), [
            ("u-42", T), ("u-42x", F), ("xu-42", F), ("u-", F),
            (42, F, "a number is not a string")]),
        ("matches-unanchored", cond("app", "matches", "beta"), [
            ("my-beta-app", T, "the search is unanchored"), ("BETA", F), ("", F)]),
        ("matches-inline-flag", cond("app", "matches", "(?i)^beta"), [
            ("BETA-1", T), ("xbeta", F)]),
        ("matches-scalar", cond("ch", "matches", "^.$"), [
            ("ü", T, "one Unicode scalar value"),
            ("😀", T, "one scalar value (4 UTF-8 bytes)"),
            ("e\u0301", F, "two scalar values"), ("ab", F), ("", F)]),
        ("matches-han", cond("word", "matches", "^\\p{Han}+$"), [("漢字", T), ("かな", F)]),
        ("matches-alternation", cond("region", "matches", "^(de|at)-[a-z]+$"), [
            ("de-berlin", T), ("ch-zurich", F)]),
        ("matches-empty-regex", cond("nick", "matches", "^$"), [("", T), ("x", F)]),
        ("matches-array", cond("roles", "matches", "^admin-"), [
            (["user-1", "admin-7"], T, "array: some element"), (["user-1"], F)]),
        ("matches-bool", cond("flag", "matches", "true"), [
            (True, F, "a boolean is not a string"), ("true", T)]),
    ]
    return opfile("operators-strings.json",
                  "contains / startsWith / endsWith (with and without caseInsensitive) and "
                  "matches (Rust regex syntax, unanchored, on Unicode scalar values): ASCII and "
                  "non-ASCII strings, arrays, non-string attributes.", 102, G)


def numeric():
    G = [
        ("lt", cond("age", "lt", 10), [
            (9, T), (9.999, T), (10, F, "strict"), (10.0, F), (11, F), (-1, T),
            ("9", F, "a string is not a number"), (True, F), ([20, 5], T, "array: some element"),
            ([20, 30], F), (MISSING, F)]),
        ("lte", cond("age", "lte", 10), [
            (10, T, "equal"), (10.0, T), (10.001, F), (9, T), ("10", F)]),
        ("gt", cond("age", "gt", 10), [
            (10, F, "strict"), (10.0001, T), (11, T), (9, F), ("11", F)]),
        ("gte", cond("age", "gte", 10), [
            (10, T, "equal"), (9.9999, F), (10.5, T), (False, F)]),
        ("lt-decimal", cond("score", "lt", 1.5), [(1, T), (1.5, F, "equal"), (2, F)]),
        ("gt-float", cond("score", "gt", 0.3), [
            (0.30000000000000004, T, "binary doubles compared exactly"), (0.3, F)]),
        ("gte-negative", cond("delta", "gte", -5), [(-5, T), (-5.5, F), (0, T)]),
        ("lt-large", cond("id", "lt", 9007199254740992), [
            (9007199254740991, T), (9007199254740992, F)]),
        ("lte-zero", cond("balance", "lte", 0), [(0, T), (0.0, T), (1e-9, F), (-1e-9, T)]),
    ]
    return opfile("operators-numeric.json",
                  "lt / lte / gt / gte: strictness at equality, integers vs decimals, negative "
                  "numbers, arrays, non-number attributes (never an error, just false).", 103, G)


def dates():
    G = [
        ("before", cond("signupAt", "before", "2026-11-22T00:00:00Z"), [
            ("2026-11-21T23:59:59.999Z", T, "1 ms before"),
            ("2026-11-22T00:00:00Z", F, "strictly before: equal is false"),
            ("2026-11-22T00:00:00.000Z", F),
            (NOW - 1, T, "ms number 1 ms before"), (NOW, F, "ms number, equal"),
            ("2026-11-22T00:59:59.999+01:00", T, "offset: this is 23:59:59.999Z"),
            ("2026-11-22T01:00:00+01:00", F, "offset: the same instant"),
            ("2026-11-21T19:00:00-05:00", F, "negative offset: the same instant"),
            ("2026-11-21T18:59:59-05:00", T),
            ("2026-11-22T00:00:00.0009Z", F, "digits beyond ms are truncated: the same instant"),
            ("not a date", F, "unparseable: false, not an error"),
            ("2026-11-21T12:00:00", F, "no offset: not an RFC 3339 timestamp"),
            (True, F, "a boolean is not a date"),
            (["2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z"], T, "array: some element"),
            (MISSING, F), (None, F)]),
        ("after", cond("signupAt", "after", "2026-11-22T00:00:00Z"), [
            ("2026-11-22T00:00:00.001Z", T, "1 ms after"),
            ("2026-11-22T00:00:00Z", F, "strictly after: equal is false"),
            (NOW + 1, T), (NOW, F),
            ("2026-11-22T00:00:00.0019Z", T, "truncated to .001"),
            ("2026-11-22T00:00:00.0009Z", F, "truncated to .000"),
            ("2026-11-21T23:59:59Z", F),
            ("2026-13-01T00:00:00Z", F, "month 13: unparseable")]),
        ("before-ms", {"attribute": "signupAt", "op": "before", "value": NOW}, [
            ("2026-11-21T23:59:59.999Z", T, "ms number in the snapshot, string in the context"),
            (NOW, F), (NOW - 1, T)]),
        ("after-ms", {"attribute": "signupAt", "op": "after", "value": NOW}, [
            (NOW + 1, T), ("2026-11-22T00:00:00Z", F), ("2026-11-22T00:00:00.001Z", T)]),
        ("after-offset", cond("signupAt", "after", "2026-11-22T09:00:00.250+09:00"), [
            (NOW + 250, F, "the value is 2026-11-22T00:00:00.250Z = %d" % (NOW + 250)),
            (NOW + 251, T), ("2026-11-22T00:00:00.251Z", T), ("2026-11-22T00:00:00.250Z", F)]),
        ("before-subms", cond("signupAt", "before", "2026-11-22T00:00:00.9999Z"), [
            (NOW + 998, T), (NOW + 999, F, "the value truncates to .999 = %d" % (NOW + 999))]),
    ]
    assert ms("2026-11-22T09:00:00.250+09:00") == NOW + 250
    assert ms("2026-11-22T00:59:59.999+01:00") == NOW - 1
    assert ms("2026-11-21T19:00:00-05:00") == NOW
    return opfile("operators-dates.json",
                  "before / after: strict comparison at ms precision, RFC 3339 strings with "
                  "offsets and ms numbers in the context and in the snapshot, truncation of "
                  "sub-ms digits, unparseable dates (false).", 104, G)


def semver():
    bad = ("not.a.version", F, "unparseable version: false")
    G = [
        ("sv-eq", cond("version", "semverEq", "1.2.3"), [
            ("1.2.3", T), ("1.2.3+build.5", T, "build metadata ignored"), ("1.2.4", F),
            ("1.2.3-rc.1", F, "a prerelease is a different version"),
            ("1.2", F, "1.2 means 1.2.0"), ("v1.2.3", F, "a leading v is not accepted"),
            ("01.2.3", F, "leading zero: invalid"), ("1.2.3.4", F, "four parts: invalid"),
            ("", F), (1.2, F, "a number is not a version"), bad, (MISSING, F),
            (["0.1.0", "1.2.3"], T, "array: some element")]),
        ("sv-eq-padded", cond("version", "semverEq", "2.1"), [
            ("2.1.0", T, "2.1 in the snapshot means 2.1.0"), ("2.1", T), ("2.1.0+meta", T),
            ("2", F), ("2.1.1", F)]),
        ("sv-eq-major", cond("version", "semverEq", "2"), [
            ("2.0.0", T), ("2", T), ("2.0", T), ("2.0.1", F)]),
        ("sv-eq-build", cond("version", "semverEq", "1.0.0+abc"), [
            ("1.0.0", T, "build metadata in the snapshot is ignored too"), ("1.0.0+xyz", T)]),
        ("sv-eq-prerelease", cond("version", "semverEq", "1.0.0-x-y.1"), [
            ("1.0.0-x-y.1", T), ("1.0.0-x-y.01", F, "leading zero in a numeric identifier: invalid"),
            ("1.0.0-X-Y.1", F, "identifiers are case-sensitive")]),
        ("sv-lt", cond("version", "semverLt", "1.0.0"), [
            ("1.0.0-rc.1", T, "a prerelease precedes its release"), ("0.9.9", T),
            ("0.99.0", T), ("1.0.0", F), ("1.0.0+b", F, "build ignored: equal"),
            ("1.0.1", F), ("latest", F), bad]),
        ("sv-lt-alpha1", cond("version", "semverLt", "1.0.0-alpha.1"), [
            ("1.0.0-alpha", T, "fewer identifiers sort first"), ("1.0.0-alpha.0", T),
            ("1.0.0-alpha.beta", F), bad]),
        ("sv-lt-alphabeta", cond("version", "semverLt", "1.0.0-alpha.beta"), [
            ("1.0.0-alpha.1", T, "numeric identifiers sort before alphanumeric ones"),
            ("1.0.0-beta", F)]),
        ("sv-lt-ascii", cond("version", "semverLt", "1.0.0-alpha"), [
            ("1.0.0-ALPHA", T, "ASCII order: uppercase before lowercase"),
            ("1.0.0-alpha", F)]),
        ("sv-gt", cond("version", "semverGt", "1.0.0-beta.2"), [
            ("1.0.0-beta.11", T, "numeric identifiers compare numerically: 11 > 2"),
            ("1.0.0-beta", F), ("1.0.0-beta.2", F, "equal"), ("1.0.0-rc.1", T),
            ("1.0.0", T), ("1.0.0-beta.2+build", F, "build ignored: equal"), ("0.9.0", F), bad]),
        ("sv-lte", cond("version", "semverLte", "1.0.0"), [
            ("1.0.0", T), ("1.0.0+x", T), ("1.0.0-rc", T), ("1.0.1", F),
            ("2", F, "2 means 2.0.0"), ("1", T, "1 means 1.0.0"), bad]),
        ("sv-gte", cond("version", "semverGte", "1.10.0"), [
            ("1.9.0", F, "numeric, not lexical"), ("1.10.0", T), ("1.11.0", T),
            ("1.10.0-rc.1", F, "the prerelease precedes 1.10.0"), ("10.0.0", T),
            ("1.10", T, "1.10 means 1.10.0"), (2, F, "a number is not a version"), bad]),
        ("sv-gt-padded", cond("version", "semverGt", "2.1"), [
            ("2.1.0", F, "equal to 2.1"), ("2.1.1", T), ("2.1.0-rc.1", F), ("2.2", T), ("3", T)]),
        ("sv-gte-array", cond("version", "semverGte", "1.0.0"), [
            (["0.9.0", "2.0.0"], T, "array: some element"), (["0.9.0", "0.1.0"], F),
            (["garbage", "1.0.0"], T, "an unparseable element does not spoil the others")]),
    ]
    return opfile("operators-semver.json",
                  "semverEq/Lt/Lte/Gt/Gte: SemVer 2.0 precedence (prereleases, numeric vs "
                  "alphanumeric identifiers), build metadata ignored, padding of \"2\" and \"2.1\", "
                  "invalid versions in the context (false, not an error).", 105, G)


def cidr():
    v4 = ["10.0.0.0/8", "192.168.1.0/24"]
    G = [
        ("cidr-v4", cond("ip", "inCidr", values=v4), [
            ("10.1.2.3", T), ("10.255.255.255", T), ("11.0.0.1", F), ("192.168.1.255", T),
            ("192.168.2.1", F),
            ("::ffff:10.0.0.1", T, "IPv4-mapped IPv6 address matches the IPv4 network"),
            ("::ffff:192.168.1.7", T), ("::ffff:11.0.0.1", F),
            ("10.0.0.256", F, "invalid address"), ("banana", F), ("", F),
            (167772161, F, "a number is not an address"), (MISSING, F),
            (["8.8.8.8", "10.0.0.1"], T, "array: some element"), (["8.8.8.8"], F)]),
        ("cidr-v6", cond("ip", "inCidr", values=["2001:db8::/32"]), [
            ("2001:db8::1", T), ("2001:DB8::1", T, "hex digits are case-insensitive"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", T, "expanded form"),
            ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", T), ("2001:db9::1", F), ("::1", F),
            ("10.0.0.1", F), ("2001:db8::g", F, "invalid address"),
            ("::ffff:10.0.0.1", F, "an IPv4-mapped address outside the IPv6 network")]),
        ("cidr-host", cond("ip", "inCidr", values=["203.0.113.7/32"]), [
            ("203.0.113.7", T), ("203.0.113.8", F)]),
        ("cidr-v4-all", cond("ip", "inCidr", values=["0.0.0.0/0"]), [
            ("1.2.3.4", T), ("255.255.255.255", T), ("::ffff:1.2.3.4", T, "IPv4-mapped"),
            ("2001:db8::1", F, "an IPv6 address is not in an IPv4 network")]),
        ("cidr-v6-host", cond("ip", "inCidr", values=["::1/128"]), [
            ("::1", T), ("0:0:0:0:0:0:0:1", T, "the same address written out"), ("::2", F)]),
        ("cidr-mixed", cond("ip", "inCidr", values=["10.0.0.0/8", "fd00::/8"]), [
            ("fd12:3456::1", T), ("10.9.9.9", T), ("fe80::1", F)]),
        ("cidr-v4-boundary", cond("ip", "inCidr", values=["172.16.0.0/12"]), [
            ("172.16.0.0", T), ("172.31.255.255", T), ("172.32.0.0", F), ("172.15.255.255", F)]),
        ("cidr-v6-all", cond("ip", "inCidr", values=["::/0"]), [
            ("::ffff:10.0.0.1", T, "an IPv4-mapped address is an IPv6 address: it is in the IPv6 networks "
                                   "containing it, as well as in IPv4 networks"),
            ("2001:db8::1", T), ("::", T), ("10.0.0.1", F, "an IPv4 address is not in an IPv6 network")]),
        ("cidr-v4-mapped", cond("ip", "inCidr", values=["::ffff:0:0/96"]), [
            ("::ffff:10.0.0.1", T, "the IPv4-mapped block itself"), ("::ffff:255.255.255.255", T),
            ("10.0.0.1", F, "an IPv4 address is not in an IPv6 network, not even the mapped block"),
            ("::1", F), ("2001:db8::1", F)]),
        ("cidr-v4-mapped-10", cond("ip", "inCidr", values=["::ffff:10.0.0.0/104"]), [
            ("::ffff:10.2.3.4", T, "an IPv6 network written with an embedded IPv4 address"),
            ("::ffff:a02:304", T, "the same address in hex"), ("::ffff:11.0.0.1", F),
            ("10.2.3.4", F, "an IPv4 address is not in an IPv6 network")]),
    ]
    return opfile("operators-cidr.json",
                  "inCidr: IPv4 and IPv6 networks, IPv4-mapped IPv6 addresses in the context (in IPv6 "
                  "networks containing them and in IPv4 networks), "
                  "network boundaries, invalid addresses and non-strings (false).", 106, G)


ALL_OPS = [
    ("equals", dict(value="x")), ("equals-ci", dict(value="x", ci=True)),
    ("notEquals", dict(value="x")), ("notEquals-ci", dict(value="x", ci=True)),
    ("in", dict(values=["x"])), ("notIn", dict(values=["x"])),
    ("notIn-ci", dict(values=["x"], ci=True)),
    ("contains", dict(value="x")), ("startsWith", dict(value="x")), ("endsWith", dict(value="x")),
    ("lt", dict(value=1)), ("lte", dict(value=1)), ("gt", dict(value=1)), ("gte", dict(value=1)),
    ("before", dict(value="2026-11-22T00:00:00Z")), ("after", dict(value="2026-11-22T00:00:00Z")),
    ("semverEq", dict(value="1.0.0")), ("semverLt", dict(value="1.0.0")),
    ("semverLte", dict(value="1.0.0")), ("semverGt", dict(value="1.0.0")),
    ("semverGte", dict(value="1.0.0")), ("matches", dict(value=".*")),
    ("inCidr", dict(values=["0.0.0.0/0", "::/0"])), ("exists", dict()),
]


def presence():
    G = [
        ("exists", cond("nick", "exists"), [
            ("x", T), ("", T, "the empty string is present"), (0, T), (False, T, "false is present"),
            ({}, T, "an object is present"), (None, F, "null counts as absent"), (MISSING, F),
            (Ctx({"targetingKey": "u-1", "Nick": "x"}), F, "attribute names are case-sensitive")]),
        ("missing", cond("nick", "missing"), [
            (MISSING, T), (None, T, "null counts as absent"), ("", F), (False, F), (0, F),
            (Ctx({"targetingKey": "u-1", "Nick": "x"}), T, "attribute names are case-sensitive")]),
        ("exists-nested", cond("/profile/email", "exists"), [
            (Ctx({"profile": {"email": "a@b.c"}}), T), (Ctx({"profile": {"email": None}}), F),
            (Ctx({"profile": {}}), F), (Ctx({}), F)]),
        ("missing-nested", cond("/profile/email", "missing"), [
            (Ctx({"profile": {}}), T), (Ctx({"profile": "x"}), T, "the pointer goes through a non-object"),
            (Ctx({"profile": {"email": None}}), T), (Ctx({"profile": {"email": "a@b.c"}}), F)]),
    ]
    # every operator with the attribute absent and null: false, except `missing`
    for op, kw in ALL_OPS:
        base = op.replace("-ci", "")
        c = cond("attr", base, **kw)
        note = "every operator except missing is false"
        if base in ("notEquals", "notIn"):
            note = "%s is false, not true, for a missing attribute" % base
        G.append(("absent-" + op.lower(), c, [
            (Ctx({"targetingKey": "u-1"}), F, note),
            (Ctx({"targetingKey": "u-1", "attr": None}), F, "null counts as missing"),
            (Ctx({"targetingKey": "u-1", "/attr": "x", "Attr": "x"}), F,
             "similar names do not count")]))
    G.append(("absent-missing", cond("attr", "missing"), [
        (Ctx({"targetingKey": "u-1"}), T), (Ctx({"targetingKey": "u-1", "attr": None}), T)]))
    return opfile("operators-presence.json",
                  "exists / missing, and every operator against an absent or null attribute: "
                  "false, except missing (notEquals and notIn included).", 107, G)


def type_mismatch():
    obj = {"k": "v"}
    G = [
        ("tm-equals", cond("a", "equals", "DE"), [(49, F), (True, F), (obj, F, "an object is not a scalar")]),
        ("tm-in", cond("a", "in", values=["DE", 1]), [(obj, F), ("1", F), (False, F)]),
        ("tm-contains", cond("a", "contains", "4"), [(42, F, "a number for contains"), (True, F), (obj, F)]),
        ("tm-starts", cond("a", "startsWith", "1"), [(123, F, "a number for startsWith"), (obj, F)]),
        ("tm-ends", cond("a", "endsWith", "e"), [(True, F, "a boolean for endsWith"), (1e3, F)]),
        ("tm-lt", cond("a", "lt", 10), [("5", F, "a string for lt"), (True, F), (obj, F)]),
        ("tm-lte", cond("a", "lte", 10), [("5", F), (False, F)]),
        ("tm-gt", cond("a", "gt", 1), [("5", F), (obj, F)]),
        ("tm-gte", cond("a", "gte", 1), [("5", F), (True, F)]),
        ("tm-before", cond("a", "before", "2030-01-01T00:00:00Z"), [
            (True, F, "a boolean for before"), ("yesterday", F, "an unparseable date"), (obj, F)]),
        ("tm-after", cond("a", "after", "2020-01-01T00:00:00Z"), [
            (False, F), ("2026-02-30T00:00:00Z", F, "an impossible date"), (obj, F)]),
        ("tm-semver-eq", cond("a", "semverEq", "1.0.0"), [(1, F, "a number for semverEq"), (True, F)]),
        ("tm-semver-lt", cond("a", "semverLt", "9.0.0"), [("1.0", T, "control: 1.0 is valid"), ("one", F), (1, F)]),
        ("tm-semver-gt", cond("a", "semverGt", "0.0.1"), [("1.0.0.0", F), (obj, F)]),
        ("tm-matches", cond("a", "matches", "1"), [(1, F, "a number for matches"), (obj, F)]),
        ("tm-cidr", cond("a", "inCidr", values=["0.0.0.0/0"]), [
            (167772161, F, "a number for inCidr"), (True, F), ("10.0.0", F, "an incomplete address"), (obj, F)]),
    ]
    return opfile("operators-type-mismatch.json",
                  "A context value of the wrong type or an unparseable value never errors: the "
                  "operator is false and evaluation continues (here: to the fallthrough).", 108, G)


def logic():
    de = cond("country", "equals", "DE")
    G = [
        ("all-empty", {"all": []}, [(Ctx({}), T, "all of nothing is true"), (Ctx({"country": "DE"}), T)]),
        ("any-empty", {"any": []}, [(Ctx({}), F, "any of nothing is false"), (Ctx({"country": "DE"}), F)]),
        ("not-all-empty", {"not": {"all": []}}, [(Ctx({}), F)]),
        ("not-any-empty", {"not": {"any": []}}, [(Ctx({}), T)]),
        ("all-one", {"all": [de]}, [(Ctx({"country": "DE"}), T), (Ctx({"country": "AT"}), F)]),
        ("all-two", {"all": [de, cond("plan", "in", values=["pro", "enterprise"])]}, [
            (Ctx({"country": "DE", "plan": "pro"}), T), (Ctx({"country": "DE", "plan": "free"}), F),
            (Ctx({"country": "AT", "plan": "pro"}), F), (Ctx({"country": "DE"}), F, "plan missing")]),
        ("any-two", {"any": [de, cond("plan", "equals", "pro")]}, [
            (Ctx({"country": "AT", "plan": "pro"}), T), (Ctx({"country": "DE"}), T),
            (Ctx({"country": "AT", "plan": "free"}), F), (Ctx({}), F)]),
        ("not-eq", {"not": de}, [
            (Ctx({"country": "AT"}), T), (Ctx({"country": "DE"}), F),
            (Ctx({}), T, "equals is false when missing, so not(…) is true")]),
        ("not-neq", {"not": cond("country", "notEquals", "DE")}, [
            (Ctx({}), T, "notEquals is false when missing, so not(…) is true"),
            (Ctx({"country": "DE"}), T), (Ctx({"country": "AT"}), F)]),
        ("missing-or-notin", {"any": [cond("country", "missing"), cond("country", "notIn", values=["DE"])]}, [
            (Ctx({}), T, "the documented idiom to include missing attributes"),
            (Ctx({"country": None}), T), (Ctx({"country": "AT"}), T), (Ctx({"country": "DE"}), F)]),
        ("nested", {"all": [{"any": [de, cond("country", "equals", "AT")]},
                            {"not": cond("plan", "equals", "free")}]}, [
            (Ctx({"country": "DE", "plan": "pro"}), T), (Ctx({"country": "AT"}), T, "plan missing: not(false)"),
            (Ctx({"country": "AT", "plan": "free"}), F), (Ctx({"country": "CH", "plan": "pro"}), F)]),
        ("triple-not", {"not": {"not": {"not": de}}}, [(Ctx({"country": "DE"}), F), (Ctx({"country": "AT"}), T)]),
        ("ptr", cond("/address/country", "equals", "DE"), [
            (Ctx({"address": {"country": "DE"}}), T), (Ctx({"address": {"country": "AT"}}), F),
            (Ctx({"address": {}}), F), (Ctx({"address": "DE"}), F, "address is not an object"),
            (Ctx({"address": None}), F), (Ctx({}), F),
            (Ctx({"address/country": "DE"}), F, "a pointer never reads a top-level key containing a slash"),
            (Ctx({"country": "DE"}), F)]),
        ("ptr-deep", cond("/a/b/c/d", "equals", 1), [
            (Ctx({"a": {"b": {"c": {"d": 1}}}}), T), (Ctx({"a": {"b": {"c": {"d": 2}}}}), F),
            (Ctx({"a": {"b": {"c": 1}}}), F)]),
        ("ptr-escape-slash", cond("/a~1b/c", "equals", "x"), [
            (Ctx({"a/b": {"c": "x"}}), T, "~1 is a slash inside a key"),
            (Ctx({"a": {"b": {"c": "x"}}}), F)]),
        ("ptr-escape-tilde", cond("/a~0b", "equals", "x"), [
            (Ctx({"a~b": "x"}), T, "~0 is a tilde"), (Ctx({"a~0b": "x"}), F)]),
        ("ptr-escape-order", cond("/a~01", "equals", "y"), [
            (Ctx({"a~1": "y"}), T, "~01 decodes to ~1 (RFC 6901: ~1 is replaced before ~0)"),
            (Ctx({"a/": "y"}), F)]),
        ("plain-slash-key", cond("a/b", "equals", "x"), [
            (Ctx({"a/b": "x"}), T, "without a leading slash the attribute is a top-level key"),
            (Ctx({"a": {"b": "x"}}), F)]),
        ("ptr-array-value", cond("/user/tags", "in", values=["vip"]), [
            (Ctx({"user": {"tags": ["new", "vip"]}}), T, "the pointer ends at an array: some element"),
            (Ctx({"user": {"tags": []}}), F)]),
        ("ptr-numeric-key", cond("/items/0", "equals", "x"), [
            (Ctx({"items": {"0": "x"}}), T, "\"0\" is an object key"),
            (Ctx({"items": ["x"]}), F, "array indices are not supported")]),
        ("ptr-targeting-key", cond("/targetingKey", "equals", "u-1"), [
            (Ctx({"targetingKey": "u-1"}), T), (Ctx({"targetingKey": "u-2"}), F)]),
    ]
    return opfile("operators-logic.json",
                  "all / any / not (empty all is true, empty any is false, negation of false "
                  "from missing attributes) and attribute references: JSON Pointers into nested "
                  "objects with ~0 / ~1 escapes, top-level keys containing a slash, no array "
                  "indices.", 109, G)


def main():
    return {
        "operators-equality.json": equality(),
        "operators-strings.json": strings(),
        "operators-numeric.json": numeric(),
        "operators-dates.json": dates(),
        "operators-semver.json": semver(),
        "operators-cidr.json": cidr(),
        "operators-presence.json": presence(),
        "operators-type-mismatch.json": type_mismatch(),
        "operators-logic.json": logic(),
    }


if __name__ == "__main__":
    for k, v in main().items():
        print(k, v)
