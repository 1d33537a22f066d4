#!/usr/bin/env python3
"""Regenerates fuzz/corpus/*: small, meaningful seeds taken from the repository's own test vectors
(Django hashes, `next` vectors, example policies) plus Django-format session data signed with the
fuzz targets' key. Run from anywhere: `python3 fuzz/seeds.py`."""
import base64, hashlib, hmac, json, pathlib, re, shutil, zlib

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"
SEP = b"\xff"  # the field separator of the multi-field targets (fuzz_targets/fields.rs)


def rust_strings(path):
    """The string literals of a Rust file (plain and raw), unescaped."""
    src = (ROOT / path).read_text()
    out = []
    for m in re.finditer(r'r(#*)"(.*?)"\1|"((?:[^"\\]|\\.)*)"', src, re.S):
        if m.group(2) is not None:
            out.append(m.group(2))
            continue
        s = m.group(3)
        s = re.sub(r"\\u\{([0-9a-fA-F]+)\}", lambda x: chr(int(x.group(1), 16)), s)
        s = re.sub(r"\\x([0-9a-fA-F]{2})", lambda x: chr(int(x.group(1), 16)), s)
        s = s.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\0", "\0")
        s = s.replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\")
        out.append(s)
    return out


def write(target, seeds):
    d = CORPUS / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    seen = set()
    for s in seeds:
        b = s if isinstance(s, bytes) else s.encode()
        if b in seen:
            continue
        seen.add(b)
        (d / hashlib.sha1(b).hexdigest()).write_bytes(b)
    print(f"{target}: {len(seen)} seeds")


# policy_parse: the example policy files and the parser's own test snippets.
policies = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.toml")) if "[apps." in p.read_text() or "[groups" in p.read_text()]
policies += [s for s in rust_strings("crates/castellan-core/src/policy.rs") if "[" in s and "\n" in s]
write("policy_parse", policies)

# password_hash: every stored value in the hasher tests, with the password and salt they use.
hash_re = re.compile(r"^(pbkdf2_sha256|pbkdf2_sha1|argon2|bcrypt_sha256|bcrypt|scrypt|md5)\$")
hashes = set()
for f in ["crates/castellan-core/tests/hashers.rs", *map(str, (ROOT / "crates/castellan-core/src/hashers").glob("*.rs"))]:
    hashes.update(s for s in rust_strings(pathlib.Path(f).relative_to(ROOT) if f.startswith("/") else f) if hash_re.match(s) and "{" not in s)
hashes.update(["", "!unusable", "a" * 32, "md5$$" + "a" * 32, "sha1$$" + "a" * 40])
salts = ["Wq2xkUu6oGL6vLXGmx1c4A", "$2b$04$LqWmVGaUo3DytiDV9ZBQ0u", "seasalt", "somesaltsomesalt", ""]
write("password_hash", [b"l\xc3\xa8tmein" + SEP + h.encode() + SEP + salts[i % len(salts)].encode() + SEP + bytes([i % 7]) for i, h in enumerate(sorted(hashes))])

# session_signing: Django-format session data signed with the targets' key (Django's
# signing.dumps(..., salt="django.contrib.sessions.SessionStore", compress=True), written out here).
KEY = b"django-insecure-fuzzing-key"
SALT = "django.contrib.sessions.SessionStore"


def b62(n):
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 62)
        out = chars[r] + out
        if n == 0:
            return out


def dumps(obj, compress=True):
    data = json.dumps(obj, separators=(",", ":")).encode()
    prefix = ""
    if compress:
        c = zlib.compress(data)
        if len(c) < len(data) - 1:
            data, prefix = c, "."
    value = prefix + base64.urlsafe_b64encode(data).decode().rstrip("=") + ":" + b62(1_700_000_000)
    key = hashlib.sha256((SALT + "signer").encode() + KEY).digest()
    sig = base64.urlsafe_b64encode(hmac.new(key, value.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    return value + ":" + sig


login = {
    "_auth_user_id": "42",
    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
    "_auth_user_hash": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "note": "héllo ✓ 😀",
}
sessions = [dumps(login), dumps(login, compress=False), dumps({}), dumps({"a": [1, {"b": None}], "x": "y" * 200}), dumps("not a dict"), "garbage", ".eJyrVkpUslJKVKoFAA:1r31eq:bad"]
write("session_signing", [s.encode() + SEP + json.dumps(login).encode() + SEP + b"\x07" + SEP + b"!" for s in sessions])

# safe_next: every string in the `next` tests, with a login URL and the field name.
nexts = rust_strings("crates/castellan-axum/tests/next.rs") + rust_strings("crates/castellan-axum/tests/next_django.rs")[:80]
nexts = [n for n in nexts if len(n) < 200]
write("safe_next", [n.encode() + SEP + b"/accounts/login/" + SEP + b"next" for n in nexts] + [b"/rand" + SEP + b"https://www.remote.example.com/login?pretty=1#top" + SEP + b"next"])

# perm_name: good, bad and borderline names from the tests.
perms = ["bookshelf.add_book", "auth.view_user", "auth.add_user ", "too.many.dots", "nodots", ".x", "x.", "a b.c", "ünïcode.vïew_thing", "app." + "x" * 100, "app." + "x" * 101, "auth.add_usr", "bookshelf\x00add_book"]
write("perm_name", perms)

# object_ref: good, bad and borderline object names (APP.MODEL:PK) from the tests.
objects = ["bookshelf.book:42", "auth.group:1", "bookshelf.book:a:b", "bookshelf.book", "book:1", "bookshelf.book:", "bookshelf.Book:1", ".book:1", "a.b:" + "x" * 255, "a.b:" + "x" * 256, "shop.label:x y", "bookshelf.book", "ünï.côde:1"]
write("object_ref", objects)

# csrf_token: a secret, its masked form (Django's 'b'*64 unmasks to 'a'*32), and malformed tokens.
csrf = [("a" * 32, "a" * 32), ("b" * 64, "a" * 32), ("b" * 64, "b" * 64), ("abc", "a" * 32), ("a" * 31 + "!", "a" * 32), ("a" * 64, "é" * 16)]
write("csrf_token", [t.encode() + SEP + c.encode() for t, c in csrf])

# form_body: limits (fields, size/16; 255 = none) then a body: login, password change and admin forms,
# and the refusals (NUL, invalid UTF-8, too many fields).
forms = [
    b"csrfmiddlewaretoken=" + b"b" * 64 + b"&username=alice&password=p%40ss+w%C3%B6rd&next=%2Fadmin%2F",
    b"old_password=old&new_password1=N3w%2Bpass&new_password2=N3w%2Bpass",
    b"name=Editors&permissions=12&permissions=13&_save=Save",
    b"a=1&b=x+y&c=%41%e2%82%ac&&d&=e&f=%zz&g=%4",
    b"a=%00", b"a=%ff", b"%c3%28=1", b"a&" * 40,
]
write("form_body", [bytes([255, 255]) + f for f in forms] + [bytes([3, 4]) + forms[0], bytes([0, 0])])
