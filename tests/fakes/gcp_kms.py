#!/usr/bin/env python3
"""A PROTOCOL FAKE of Google Cloud KMS's REST API, for veil's tests. Not Google's code, not an
emulator Google ships: a small stand-in that speaks the two calls a sops-style tool makes,
checked against Google's own Python client (google-cloud-kms, REST transport) in
tests/integration/keys/gcp_kms.rs, so that it and veil agree with the vendor on the wire.

What it speaks (https://cloud.google.com/kms/docs/reference/rest):
  POST /v1/projects/P/locations/L/keyRings/R/cryptoKeys/K:encrypt
       {"plaintext": b64, "additionalAuthenticatedData"?: b64}
    -> {"name": ".../cryptoKeyVersions/1", "ciphertext": b64, "protectionLevel": ...}
  POST /v1/projects/P/locations/L/keyRings/R/cryptoKeys/K:decrypt
       {"ciphertext": b64, "additionalAuthenticatedData"?: b64}
    -> {"plaintext": b64, "usedPrimary": true, "protectionLevel": ...}
  POST /token  (only with --service-account FILE: Google's OAuth token endpoint, jwt-bearer
       grant) assertion=RS256 JWT -> {"access_token": SA_TOKEN, ...}; the signature is checked
       with the account's public key, iss/aud/scope/exp too; a bad one is 400 invalid_grant.
       SA_TOKEN (--sa-token) is then accepted like --token.
  Authorization: Bearer TOKEN, checked against --token; errors in Google's JSON shape
  {"error": {"code", "message", "status"}} (401 UNAUTHENTICATED, 403 PERMISSION_DENIED for a
  key it does not hold, 400 INVALID_ARGUMENT for a ciphertext that does not open).

Wrapping is real: AES-256-GCM under a random 32-byte secret per key, kept in memory only, with
the key's name as associated data, so a ciphertext opens only with the key that made it.

Usage: gcp_kms.py --port N --token T [--token T2] --key RESOURCE_ID [--key ...]
                  [--tls-dir DIR]   (HTTPS with a throwaway CA written to DIR/ca.pem)
                  [--service-account FILE --sa-token T]
Listens on 127.0.0.1 only. Python stdlib plus `cryptography`.
"""

import argparse
import base64
import binascii
import datetime
import http.server
import ipaddress
import json
import os
import re
import ssl
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PATH = re.compile(
    r"^/v1/(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/:]+):(encrypt|decrypt)$"
)
MAGIC = b"\x0avfk1"  # marks the fake's ciphertext format
MAX_PLAINTEXT = 64 * 1024


class Kms:
    def __init__(self, tokens, keys):
        self.tokens = set(tokens)
        self.keys = {k: AESGCM(os.urandom(32)) for k in keys}
        self.account = None  # (client_email, RSA public key, token to issue)


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check_assertion(jwt, token_url):
    """Why a jwt-bearer assertion is refused, or None when it is good."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    email, public, _ = KMS.account
    try:
        h, c, sig = jwt.split(".")
        header, claims = json.loads(b64url(h)), json.loads(b64url(c))
    except ValueError:
        return "Invalid JWT."
    if header.get("alg") != "RS256":
        return "Invalid JWT: unsupported algorithm."
    try:
        public.verify(b64url(sig), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return "Invalid JWT Signature."
    if claims.get("iss") != email:
        return "Invalid issuer."
    if claims.get("aud") != token_url:
        return "Invalid JWT: audience is not the token endpoint."
    if "cloudkms" not in claims.get("scope", "") and "cloud-platform" not in claims.get("scope", ""):
        return "Invalid scope."
    if not claims.get("exp", 0) > time.time():
        return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
    return None


def b64decode(s):
    """Protobuf JSON bytes: standard or URL-safe base64, padding optional."""
    if not isinstance(s, str):
        raise ValueError("not a string")
    s = s.replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s, validate=True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "ESF"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the log free of request lines with tokens
        sys.stderr.write("fake-gcp-kms: %s\n" % (fmt % args))

    def reply(self, code, obj):
        body = json.dumps(obj, indent=2).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, status, message):
        self.reply(code, {"error": {"code": code, "message": message, "status": status}})

    def token(self, raw):
        form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
        grant = form.get("grant_type", [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + grant})
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        token_url = "%s://%s/token" % (scheme, self.headers.get("Host", ""))
        why = check_assertion(form.get("assertion", [""])[0], token_url)
        if why:
            return self.reply(400, {"error": "invalid_grant", "error_description": why})
        return self.reply(200, {"access_token": KMS.account[2], "expires_in": 3599, "token_type": "Bearer"})

    def do_GET(self):
        self.drain()
        self.error(404, "NOT_FOUND", "The requested URL was not found on this server.")

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        raw = self.drain()
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/token" and KMS.account:
            return self.token(raw)
        query = urllib.parse.parse_qs(urllib.parse.unquote(url.query).replace(";", "&"))
        int_enums = "int" in query.get("enum-encoding", [])
        m = PATH.match(urllib.parse.unquote(url.path))
        if not m:
            return self.error(404, "NOT_FOUND", "The requested URL was not found on this server.")
        name, verb = m.group(1), m.group(2)
        auth = self.headers.get("Authorization")
        if not auth:
            return self.error(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            )
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token not in KMS.tokens:
            return self.error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential.",
            )
        aead = KMS.keys.get(name)
        if aead is None:
            perm = "useToEncrypt" if verb == "encrypt" else "useToDecrypt"
            return self.error(
                403,
                "PERMISSION_DENIED",
                "Permission 'cloudkms.cryptoKeyVersions.%s' denied on resource '%s' "
                "(or it may not exist)." % (perm, name),
            )
        try:
            req = json.loads(raw or b"{}")
            if not isinstance(req, dict):
                raise ValueError
        except ValueError:
            return self.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        try:
            aad = b64decode(req.get("additionalAuthenticatedData", ""))
        except (ValueError, binascii.Error):
            return self.error(400, "INVALID_ARGUMENT", "Invalid value at 'additional_authenticated_data' (TYPE_BYTES)")
        level = 1 if int_enums else "SOFTWARE"
        bound = name.encode() + b"\0" + aad
        if verb == "encrypt":
            try:
                pt = b64decode(req.get("plaintext", ""))
            except (ValueError, binascii.Error):
                return self.error(400, "INVALID_ARGUMENT", "Invalid value at 'plaintext' (TYPE_BYTES)")
            if not pt:
                return self.error(400, "INVALID_ARGUMENT", "Plaintext is required.")
            if len(pt) > MAX_PLAINTEXT:
                return self.error(400, "INVALID_ARGUMENT", "Plaintext is too large.")
            nonce = os.urandom(12)
            ct = MAGIC + nonce + aead.encrypt(nonce, pt, bound)
            return self.reply(
                200,
                {
                    "name": name + "/cryptoKeyVersions/1",
                    "ciphertext": base64.b64encode(ct).decode(),
                    "protectionLevel": level,
                },
            )
        try:
            ct = b64decode(req.get("ciphertext", ""))
        except (ValueError, binascii.Error):
            return self.error(400, "INVALID_ARGUMENT", "Invalid value at 'ciphertext' (TYPE_BYTES)")
        if not ct:
            return self.error(400, "INVALID_ARGUMENT", "Ciphertext is required.")
        try:
            if not ct.startswith(MAGIC):
                raise ValueError
            body = ct[len(MAGIC):]
            pt = aead.decrypt(body[:12], body[12:], bound)
        except Exception:
            return self.error(400, "INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.")
        return self.reply(
            200,
            {
                "plaintext": base64.b64encode(pt).decode(),
                "usedPrimary": True,
                "protectionLevel": level,
            },
        )


def make_tls(dir_):
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    span = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("veil test CA (fake Cloud KMS)"))
        .issuer_name(name("veil test CA (fake Cloud KMS)"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(span[0])
        .not_valid_after(span[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(span[0])
        .not_valid_after(span[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(dir_, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(dir_, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(os.path.join(dir_, "server.key"), "wb") as f:
        f.write(
            key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(dir_, "server.pem"), os.path.join(dir_, "server.key"))
    return ctx


def main():
    global KMS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", action="append", required=True)
    p.add_argument("--key", action="append", default=[])
    p.add_argument("--tls-dir")
    p.add_argument("--service-account")
    p.add_argument("--sa-token")
    a = p.parse_args()
    KMS = Kms(a.token, a.key)
    if a.service_account:
        from cryptography.hazmat.primitives import serialization

        with open(a.service_account) as f:
            sa = json.load(f)
        key = serialization.load_pem_private_key(sa["private_key"].encode(), None)
        KMS.account = (sa["client_email"], key.public_key(), a.sa_token)
        KMS.tokens.add(a.sa_token)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.tls_dir:
        srv.socket = make_tls(a.tls_dir).wrap_socket(srv.socket, server_side=True)
        # Written last: its presence says the server is ready for TLS.
        open(os.path.join(a.tls_dir, "ready"), "w").close()
    srv.serve_forever()


KMS = None

if __name__ == "__main__":
    main()
