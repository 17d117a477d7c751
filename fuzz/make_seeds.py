#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/seed-*.

Run once from anywhere: python3 fuzz/make_seeds.py [FIXTURES]. FIXTURES defaults to
../shared/fixtures next to the project; seeds that need it are skipped when it is absent.
The keychain seeds with decryptable items need the `cryptography` package (skipped without).
The inputs follow the formats documented at the top of each fuzz_targets/*.rs file; the
keychain keys are the same formulas as in fuzz_targets/keychain.rs.

The fuzzer adds what it finds to a separate folder (scripts/fuzz.sh); `cargo fuzz cmin` can
merge the best of it back here. Seeds are kept small: libFuzzer's default maximum input length
is the largest seed's.
"""

import os
import plistlib
import sqlite3
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FIXTURES = (
    sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "fixtures")
)


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def fixture(*parts):
    p = os.path.join(FIXTURES, *parts)
    if not os.path.exists(p):
        print(f"skipped (no fixture): {p}", file=sys.stderr)
        return None
    with open(p, "rb") as f:
        return f.read()


# ---- plists, keybags, hash lines -------------------------------------------------------------

info = fixture("decrypted-backup-ios14", "Info.plist")
if info:
    put("plist", "info-binary", info)
    put("plist", "info-xml", plistlib.dumps(plistlib.loads(info), fmt=plistlib.FMT_XML))

for name in ["manifest-ios9-test123", "manifest-ios10_2-test123"]:
    m = fixture("keybags", name + ".plist")
    if m:
        kb = plistlib.loads(m)["BackupKeyBag"]
        put("keybag", name, kb)
        if name.startswith("manifest-ios9"):
            put("plist", name, m)

every_type = {
    "s": "text",
    "i": -5,
    "u": 2**64 - 1,
    "r": 1.5,
    "b": True,
    "d": b"\x00\x01",
    "t": __import__("datetime").datetime(2020, 1, 2, 3, 4, 5),
    "a": [1, [2, [3]], {"k": "v"}],
    "uid": plistlib.UID(3),
}
put("plist", "types-binary", plistlib.dumps(every_type, fmt=plistlib.FMT_BINARY))
xml_types = dict(every_type)
del xml_types["uid"], xml_types["u"]  # XML has no UID; plistlib writes no u64 in XML
put("plist", "types-xml", plistlib.dumps(xml_types, fmt=plistlib.FMT_XML))




def doubling(depth):
    """A binary plist where object k is [k-1, k-1]: shared references (a regression once)."""
    objs = [bytes([0x10, 1])] + [bytes([0xA2, k - 1, k - 1]) for k in range(1, depth + 1)]
    out = bytearray(b"bplist00")
    offsets = []
    for o in objs:
        offsets.append(len(out))
        out += o
    table = len(out)
    out += bytes(offsets)
    out += bytes(6) + bytes([1, 1]) + struct.pack(">QQQ", len(objs), depth, table)
    return bytes(out)


put("plist", "shared-refs", doubling(4))


def tlv(tag, value):
    return tag + struct.pack(">I", len(value)) + value


put(
    "keybag",
    "minimal",
    tlv(b"VERS", struct.pack(">I", 3))
    + tlv(b"TYPE", struct.pack(">I", 1))
    + tlv(b"UUID", b"u" * 16)
    + tlv(b"WRAP", struct.pack(">I", 0))
    + tlv(b"SALT", b"s" * 20)
    + tlv(b"ITER", struct.pack(">Q", 10000))
    + tlv(b"DPWT", struct.pack(">I", 1))
    + tlv(b"DPIC", struct.pack(">I", 10000000))
    + tlv(b"DPSL", b"d" * 20)
    + tlv(b"UUID", b"c" * 16)
    + tlv(b"CLAS", struct.pack(">I", 1))
    + tlv(b"WRAP", struct.pack(">I", 2))
    + tlv(b"KTYP", struct.pack(">I", 0))
    + tlv(b"WPKY", b"w" * 40)
    + tlv(b"UUID", b"e" * 16)
    + tlv(b"CLAS", struct.pack(">I", 11))
    + tlv(b"WRAP", struct.pack(">I", 3))
    + tlv(b"WPKY", b"x" * 40)
    + tlv(b"PBKY", b"p" * 32),
)

lines = fixture("hashlines.tsv")
if lines:
    hashes = [l.split("\t", 1)[1] for l in lines.decode().splitlines() if "\t" in l]
    v9 = [h for h in hashes if h.startswith("$itunes_backup$*9*")]
    v10 = [h for h in hashes if h.startswith("$itunes_backup$*10*")]
    put("hashline", "v9", v9[0] + "\n")
    put("hashline", "v10", v10[0] + "\n")
    put("hashline", "several", "\n".join(v9[1:3] + v10[1:3]) + "\n")

# ---- MBFile records and Manifest.db rows ------------------------------------------------------


def cell(v):
    """One cell in the manifest target's format (see fuzz_targets/manifest.rs)."""
    if v is None:
        return b"\x00"
    if isinstance(v, int):
        return b"\x01" + struct.pack("<q", v)
    if isinstance(v, float):
        return b"\x02" + struct.pack("<d", v)
    if isinstance(v, str):
        b = v.encode()[:255]
        return b"\x03" + bytes([len(b)]) + b
    b = bytes(v)[:65535]
    return b"\x04" + struct.pack("<H", len(b)) + b


db_path = os.path.join(FIXTURES, "decrypted-backup-ios14", "Manifest.db")
if os.path.exists(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT fileID, domain, relativePath, flags, file FROM Files ORDER BY fileID"
    ).fetchall()

    def kind(blob):
        p = plistlib.loads(blob)
        root = p["$objects"][p["$top"]["root"].data]
        return tuple(sorted(k for k in root if k in ("Target", "ExtendedAttributes", "Digest",
                                                      "EncryptionKey")))

    # One small record of each shape (directory, file, file with digest, xattrs, symlink).
    by_shape = {}
    for r in rows:
        k = (r[3], kind(r[4]))
        if k not in by_shape or len(r[4]) < len(by_shape[k][4]):
            by_shape[k] = r
    picked = sorted(by_shape.values())
    for i, r in enumerate(picked):
        put("mbfile", f"real-{i}-flags{r[3]}", r[4])
    put("plist", "mbfile", picked[0][4])

    def manifest_seed(flags, rs):
        return bytes([flags]) + b"".join(cell(v) for r in rs for v in r)

    put("manifest", "real-typed", manifest_seed(0, picked[:4]))
    put("manifest", "real-reopened", manifest_seed(2, picked[2:6]))
    odd = [
        (picked[0][0], picked[0][1], None, None, picked[0][4]),  # path from the record
        (7, b"HomeDomain", "a*b?c", "4", None),  # blob domain, text flags
        ("dup", "D", "p", 1.0, b"not a plist"),  # real flags, garbage record
        ("dup", None, "q", 2, b""),  # duplicate key, NULL domain
    ]
    put("manifest", "odd-untyped", manifest_seed(3, odd) + b"Library/*")

# ---- keychain -----------------------------------------------------------------------------------

PASSWORD_KEY = bytes([0x42] * 32)
ITEM_KEY = bytes([0x17] * 32)


def class_key(c):
    return bytes(((c * 31) + i) & 0xFF for i in range(32))


def der(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    lb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(lb)]) + lb + body


def der_attrs(pairs):
    seqs = [der(0x30, der(0x0C, k.encode()) + v) for k, v in pairs]
    return der(0x31, b"".join(seqs))


v3_payload = der_attrs(
    [
        ("acct", der(0x0C, b"home-wifi")),
        ("svce", der(0x0C, b"AirPort")),
        ("cdat", der(0x18, b"20200102030405.123Z")),
        ("mdat", der(0x17, b"991231235959Z")),
        ("ptcl", der(0x02, b"\x68\x74\x70\x73")),
        ("port", der(0x02, b"\x01\xbb")),
        ("sync", der(0x01, b"\xff")),
        ("none", der(0x05, b"")),
        ("v_Data", der(0x04, b"hunter2")),
    ]
)
put("keychain", "sealed-der", bytes([2, 1, 1]) + v3_payload)
v2_payload = plistlib.dumps(
    {"acct": "me@example.com", "srvr": "example.com", "ptcl": 1752462448, "path": "login",
     "cdat": __import__("datetime").datetime(2021, 5, 6), "v_Data": b"s3cret"},
    fmt=plistlib.FMT_BINARY,
)
put("keychain", "sealed-plist", bytes([2, 0, 2]) + v2_payload)
put("keychain", "sealed-cbc", bytes([2, 2, 3]) + bytes(range(32)))
put("keychain", "raw-v3-truncated", bytes([1]) + struct.pack("<III", 3, 6, 40) + b"\x00" * 20)


def rt_attr(kind, key, value):
    return bytes([kind, len(key)]) + key + bytes([len(value)]) + value


put(
    "keychain",
    "roundtrip",
    bytes([3, 1, 3, 6])
    + b"secret"
    + rt_attr(0, b"acct", b"alice")
    + rt_attr(1, b"gena", b"\x00\xff")
    + rt_attr(2, b"port", struct.pack("<q", 443))
    + rt_attr(3, b"sync", b"\x01")
    + rt_attr(4, b"cdat", struct.pack("<q", 1_600_000_000)),
)

try:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    def v0_item(pclass, secret):
        """A version-0 v_Data (CBC), which needs no GCM with an empty IV to make."""
        pad = padding.PKCS7(128).padder()
        body = pad.update(secret) + pad.finalize()
        enc = Cipher(algorithms.AES(ITEM_KEY), modes.CBC(b"\x00" * 16)).encryptor()
        ct = enc.update(body) + enc.finalize()
        return struct.pack("<II", 0, pclass) + aes_key_wrap(class_key(pclass), ITEM_KEY) + ct

    keychain = {
        "genp": [
            {"acct": "home-wifi", "svce": "AirPort", "v_Data": v0_item(6, b"wifi-password")},
            {"acct": "me", "svce": "BackupAgent", "v_Data": v0_item(7, b"backup-pw"),
             "v_PersistentRef": b"\x01" * 12},
            {"svce": "device-only", "v_Data": v0_item(10, b"x")},
            {"labl": "no v_Data"},
            "not a dict",
        ],
        "inet": [
            {"srvr": "example.com", "ptcl": 1752462448, "port": 8443, "path": "a",
             "v_Data": struct.pack("<III", 3, 1, 40) + b"\x00" * 60},
        ],
        "cert": [{"labl": "cert", "agrp": "apple", "v_Data": b"\x02\x00"}],
        "keys": [],
    }
    put("keychain", "plist", b"\x00" + plistlib.dumps(keychain, fmt=plistlib.FMT_BINARY))
    put("keychain", "raw-v0", b"\x01" + v0_item(1, b"secret"))
except ImportError:
    print("skipped keychain plist seeds (no `cryptography` package)", file=sys.stderr)

# ---- masks, rules, hints ------------------------------------------------------------------------

masks = {
    "pin": (0, 4, 4, "?d?d?d?d"),
    "word-year": (200, 1, 7, "?u?l?l?l19?d?d"),
    "custom": (70, 2, 3, "?1?2?3?4\nabc\n?1?d\n?l?2\n?3??"),
    "literal": (1, 1, 1, "pass?sword ??"),
    "bytes": (255, 1, 2, "?b?b?h?H"),
    "all": (130, 3, 5, "?a?a?a?a?a?a?a?a?a?a"),
}
for name, (s, lo, hi, text) in masks.items():
    put("mask", name, bytes([s, lo, hi]) + text.encode())

rules = """# every function family once
:
l
u
c
C
t
T3
r
d
p2
f
{
}
$1 $2 $3
^a
[
]
D2
x14
O12
i3!
o0X
'5
so0 si1 se3
@a
z2
Z2
q
k
K
*13
L1
R2
+0
-1
.1
,1
y2
Y2
E
e-
M l 4
M c 6
X021
<9
>3
_8
!z
/a
(p
)d
=1a
%2s
Q
c $2 $0 $2 $4
"""
put("rules", "functions", rules.encode() + b"\0\x80password\nMary-Jane\nabc123\n")
put("rules", "best64-like", b"c\n$1\n$!\nr\nsa@\nu\nl $1 $2 $3\n\0\x00luna\nOscar99\n")
put("rules", "bytes", b"$\xe9\n^\x00\ns\xff \r\n\0\x10\xc3\xa9t\xc3\xa9\n")

hints = {
    "basic": 'words = ["luna", "oscar"]\ndates = ["1995-06-17"]\n',
    "everything": (
        "# what the owner remembers\n"
        'words = ["new york", "Mary-Jane", "o\'brien", "LUNA"]\n'
        'dates = ["1988-03-09", "1990", "07-04", 2001-02-03]\n'
        'numbers = ["14", 7, "0712"]\n'
        'passwords = ["Summer2019!", "p@ssw0rd", "Rainbow7"]\n'
    ),
    "bare-values": 'words = "Buddy"\nnumbers = 23\npasswords = "Secret 1"\n',
    "inline": "words = ['single', \"\"\"multi\nline\"\"\"]\ndates = [\"02-29\"]\n",
    "flags": "luna\n1995-06-17\n14\nhunter2\nnew york\n06-17\n",
    # Numbers at the edge of i64 (an old password like this once overflowed; see
    # crates/guess/tests/fuzz_regressions.rs).
    "big-numbers": 'passwords = ["a9223372036854775800", "0099"]\nnumbers = ["9999999999999999"]\n',
}
for name, text in hints.items():
    put("hints", name, text)
    put("hints_rank", name, text)

# mbdb: Manifest.mbdb (iOS 4 to 9) and Manifest.mbdx bytes, as in fuzz_targets/mbdb.rs.
def mbdb_str(b):
    return b"\xff\xff" if b is None else struct.pack(">H", len(b)) + b


def mbdb_rec(domain, path, mode, target=None, digest=None, key=None, size=0, cls=0, props=()):
    out = b"".join(mbdb_str(f) for f in (domain, path, target, digest, key))
    out += struct.pack(
        ">HQIIIIIQBB", mode, 1234, 501, 0xFFFFFFFE, 1300000000, 1300000001, 1300000002,
        size, cls, len(props),
    )
    return out + b"".join(mbdb_str(n) + mbdb_str(v) for n, v in props)


MBDB = b"mbdb\x05\x00"
mbdb_recs = [
    mbdb_rec(b"HomeDomain", b"", 0o40755),
    mbdb_rec(b"HomeDomain", b"Library", 0o40755),
    mbdb_rec(
        b"HomeDomain", b"Library/SMS/sms.db", 0o100644, digest=bytes(range(20)),
        key=struct.pack("<I", 4) + bytes(range(40)), size=278528, cls=4,
        props=[(b"com.apple.x", b"\x00\xff"), (None, b"")],
    ),
    mbdb_rec(b"HomeDomain", b"Library/link", 0o120755, target=b"SMS/sms.db"),
    mbdb_rec(b"HomeDomain", "Library/Notes/Cafe\u0301.txt".encode(), 0o100644, size=13, cls=3),
    mbdb_rec(b"HomeDomain", b"../../evil", 0o100644, size=2**64 - 1),
]
put("mbdb", "header-only", MBDB)
put("mbdb", "every-kind", MBDB + b"".join(mbdb_recs))
put("mbdb", "truncated", (MBDB + b"".join(mbdb_recs))[:-9])
put("mbdb", "all-absent", MBDB + mbdb_rec(None, None, 0))
put(
    "mbdb", "unencrypted",
    MBDB + b"".join(mbdb_recs[:2]) + mbdb_rec(b"MediaDomain", b"Media/a.jpg", 0o100644, size=5),
)
mbdx = b"mbdx\x02\x00" + struct.pack(">I", len(mbdb_recs))
at = 0
for r in mbdb_recs:
    mbdx += bytes(20) + struct.pack(">IH", at, 0o100644)
    at += len(r)
put("mbdb", "mbdx", mbdx)

print("seeds written under", CORPUS)
