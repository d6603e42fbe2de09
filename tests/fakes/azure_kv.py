#!/usr/bin/env python3
"""A PROTOCOL FAKE of Azure Key Vault and Microsoft Entra ID, for veil's tests only.

It is not Azure. It speaks the public REST shapes a Key Vault client needs, on 127.0.0.1 over
HTTPS (a throwaway CA it makes at start-up), and it is proven against Microsoft's own Python SDK
(azure-keyvault-keys + azure-identity, tests/fakes/azure_kv_sdk_check.py) and, where it can be
pointed here, the real sops binary:

- Entra: `POST /{tenant}/oauth2/v2.0/token` (client secret, client-certificate assertion checked
  against the certificate's signature and x5t thumbprint, workload-identity federated token),
  `GET /{tenant}/v2.0/.well-known/openid-configuration` (MSAL's tenant discovery);
- managed identity: `GET /msi/token` with `X-IDENTITY-HEADER` (App Service style) and
  `GET /metadata/identity/oauth2/token` with `Metadata: true` (IMDS style);
- Key Vault: `GET /keys/{name}[/{version}]`, `POST /keys/{name}[/{version}]/{encrypt,decrypt,
  wrapkey,unwrapkey}` with `?api-version=`, the 401 challenge on a request without a token,
  Key Vault's error bodies. Keys are real RSA-2048 keys held in memory; RSA-OAEP-256 is real, so
  a ciphertext of one key does not decrypt with another.

The challenge names the resource `https://0.0.1:PORT`: by the suffix rule the Azure SDKs apply
(the vault's `host:port` must end with "." + the resource's), that is a parent of
`127.0.0.1:PORT`, so clients keep their challenge-resource check on.

Usage: azure_kv.py DIR. Writes DIR/ca.pem, DIR/client.pem (a client certificate + key for the
certificate credential), DIR/federated-token, DIR/cli-token.json (what a stub `az` prints) and,
once listening, DIR/ready.json with the port and the test credentials. Every request is logged on
stderr as one line: METHOD PATH api-version=V auth=yes|no len=BODY_BYTES. Test-only secrets, loopback only.
"""

import base64
import datetime
import hashlib
import http.server
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TENANT = "veil-test-tenant"
CLIENT_ID = "veil-test-client"
CLIENT_SECRET = "veil-test-client-secret"
IDENTITY_HEADER = "veil-test-identity-header"
FEDERATED_TOKEN = "veil-test-federated-token"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def make_cert(subject, issuer_key, issuer_name, key, ca=False, san=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if san:
        import ipaddress

        b = b.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return b.sign(issuer_key, hashes.SHA256())


class State:
    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()
        self.tokens = {}  # token -> audience resource
        self.keys = {}  # name -> [(version, private key)], newest last
        for name in ("sops-key", "other-key"):
            self.keys[name] = []
            for _ in range(2 if name == "sops-key" else 1):
                self.keys[name].append(
                    (secrets.token_hex(16), rsa.generate_private_key(public_exponent=65537, key_size=2048))
                )
        self.client_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veil-test-client")])
        self.client_cert = make_cert("veil-test-client", self.client_key, name, self.client_key)
        self.thumb = b64u(hashlib.sha1(self.client_cert.public_bytes(serialization.Encoding.DER)).digest())

    def issue(self, resource):
        t = "fake-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[t] = resource.removesuffix("/.default")
        return t


STATE = None
PORT = 0


def resource():
    return "https://0.0.1:%d" % PORT


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def kv_error(self, status, code, message, headers=()):
        self.send_json(status, {"error": {"code": code, "message": message}}, headers)

    def aad_error(self, status, error, desc):
        self.send_json(
            status,
            {
                "error": error,
                "error_description": desc + "\r\nTrace ID: 00000000-0000-0000-0000-000000000000",
                "error_codes": [0],
            },
        )

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        raw = self.body()
        sys.stderr.write(
            "%s %s api-version=%s auth=%s len=%d\n"
            % (method, u.path, q.get("api-version", [""])[0], "yes" if auth else "no", len(raw))
        )
        sys.stderr.flush()
        parts = [p for p in u.path.split("/") if p != ""]
        if method == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            return self.token(parts[0], raw)
        if method == "GET" and len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self.openid(parts[0])
        if method == "GET" and u.path == "/msi/token":
            if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
                return self.send_json(400, {"error": "invalid_request", "error_description": "bad X-IDENTITY-HEADER"})
            return self.mi_token(q)
        if method == "GET" and u.path == "/metadata/identity/oauth2/token":
            if self.headers.get("Metadata") != "true":
                return self.send_json(400, {"error": "invalid_request", "error_description": "Required metadata header not specified"})
            return self.mi_token(q)
        if parts and parts[0] == "keys":
            return self.vault(method, parts[1:], q, auth, raw)
        self.kv_error(404, "NotFound", "no such endpoint in the fake")

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def openid(self, tenant):
        base = "https://127.0.0.1:%d/%s" % (PORT, tenant)
        self.send_json(
            200,
            {
                "token_endpoint": base + "/oauth2/v2.0/token",
                "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
                "issuer": base + "/v2.0",
                "end_session_endpoint": base + "/oauth2/v2.0/logout",
                "jwks_uri": base + "/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "token"],
            },
        )

    def mi_token(self, q):
        res = q.get("resource", [""])[0]
        if not res:
            return self.send_json(400, {"error": "invalid_request", "error_description": "resource is required"})
        tok = STATE.issue(res)
        self.send_json(
            200,
            {
                "access_token": tok,
                "expires_on": str(int(time.time()) + 3600),
                "expires_in": "3600",
                "resource": res,
                "token_type": "Bearer",
                "client_id": CLIENT_ID,
            },
        )

    def token(self, tenant, raw):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        if tenant != TENANT:
            return self.aad_error(400, "invalid_request", "AADSTS90002: Tenant '%s' not found." % tenant)
        if form.get("grant_type") != "client_credentials":
            return self.aad_error(400, "unsupported_grant_type", "AADSTS70003: unsupported grant type")
        if form.get("client_id") != CLIENT_ID:
            return self.aad_error(400, "unauthorized_client", "AADSTS700016: Application with identifier '%s' was not found in the directory." % form.get("client_id"))
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            return self.aad_error(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
        if "client_secret" in form:
            if form["client_secret"] != CLIENT_SECRET:
                return self.aad_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            a = form.get("client_assertion", "")
            if a == FEDERATED_TOKEN:
                pass
            elif not self.assertion_ok(a, tenant):
                return self.aad_error(401, "invalid_client", "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.")
        else:
            return self.aad_error(401, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        self.send_json(
            200,
            {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": STATE.issue(scope)},
        )

    def assertion_ok(self, jwt, tenant):
        try:
            h, c, s = jwt.split(".")
            header = json.loads(unb64u(h))
            claims = json.loads(unb64u(c))
            if header.get("alg") != "RS256":
                return False
            # Entra matches the certificate by its SHA-1 thumbprint; MSAL Python sends it in
            # standard base64, RFC 7515 says base64url: accept either spelling of the same bytes.
            x5t = header.get("x5t", "").replace("+", "-").replace("/", "_").rstrip("=")
            if x5t != STATE.thumb:
                return False
            STATE.client_cert.public_key().verify(
                unb64u(s), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
                return False
            if not claims.get("aud", "").endswith("/%s/oauth2/v2.0/token" % tenant):
                return False
            return claims.get("exp", 0) > time.time()
        except Exception:
            return False

    def vault(self, method, parts, q, auth, raw):
        challenge = (
            (
                "WWW-Authenticate",
                'Bearer authorization="https://127.0.0.1:%d/%s", resource="%s"' % (PORT, TENANT, resource()),
            ),
        )
        if not auth:
            return self.kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", challenge)
        tok = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with STATE.lock:
            aud = STATE.tokens.get(tok)
        if aud is None:
            return self.kv_error(401, "Unauthorized", "AKV10022: Invalid audience or token.", challenge)
        if aud.rstrip("/") != resource():
            return self.kv_error(401, "Unauthorized", "AKV10022: Invalid audience. Expected %s, found: %s." % (resource(), aud), challenge)
        if not q.get("api-version", [""])[0]:
            return self.kv_error(400, "BadParameter", "The 'api-version' query parameter is missing.")
        if not parts:
            return self.kv_error(404, "NotFound", "no key name")
        name, rest = parts[0], parts[1:]
        versions = STATE.keys.get(name)
        op = None
        if method == "POST" and rest and rest[-1].lower() in ("encrypt", "decrypt", "wrapkey", "unwrapkey"):
            op, rest = rest[-1].lower(), rest[:-1]
        version = rest[0] if rest else ""
        if len(rest) > 1 or (method == "GET" and op) or (method == "POST" and not op):
            return self.kv_error(405, "BadParameter", "method or path not supported by the fake")
        found = None
        if versions:
            if not version:
                found = versions[-1]
            else:
                found = next((v for v in versions if v[0] == version), None)
        if found is None:
            return self.kv_error(
                404,
                "KeyNotFound",
                "A key with (name/id) %s%s was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
                % (name, "/" + version if version else ""),
            )
        ver, key = found
        kid = "https://127.0.0.1:%d/keys/%s/%s" % (PORT, name, ver)
        if method == "GET":
            pub = key.public_key().public_numbers()
            return self.send_json(
                200,
                {
                    "key": {
                        "kid": kid,
                        "kty": "RSA",
                        "key_ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                        "n": int_b64u(pub.n),
                        "e": int_b64u(pub.e),
                    },
                    "attributes": {
                        "enabled": True,
                        "created": 1700000000,
                        "updated": 1700000000,
                        "recoveryLevel": "Recoverable+Purgeable",
                        "recoverableDays": 90,
                    },
                },
            )
        try:
            req = json.loads(raw or b"{}")
            alg = req.get("alg")
            value = unb64u(req.get("value", ""))
        except Exception:
            return self.kv_error(400, "BadParameter", "Property 'value' is not a valid base64url string.")
        if alg == "RSA-OAEP-256":
            pad = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        elif alg == "RSA-OAEP":
            pad = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        else:
            return self.kv_error(400, "BadParameter", "Invalid algorithm: %s" % alg)
        try:
            if op in ("encrypt", "wrapkey"):
                out = key.public_key().encrypt(value, pad)
            else:
                out = key.decrypt(value, pad)
        except Exception:
            return self.kv_error(400, "BadParameter", "Operation %s failed: the ciphertext does not match this key." % op)
        self.send_json(200, {"kid": kid, "value": b64u(out)})


def main():
    global STATE, PORT
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    STATE = State(d)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veil test CA (azure fake)")])
    ca = make_cert("veil test CA (azure fake)", ca_key, ca_name, ca_key, ca=True)
    srv_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    srv = make_cert("localhost", ca_key, ca_name, srv_key, san=True)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    keypem = lambda k: k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(pem(ca))
    with open(os.path.join(d, "server.pem"), "wb") as f:
        f.write(pem(srv) + keypem(srv_key))
    with open(os.path.join(d, "client.pem"), "wb") as f:
        f.write(pem(STATE.client_cert) + keypem(STATE.client_key))
    with open(os.path.join(d, "federated-token"), "w") as f:
        f.write(FEDERATED_TOKEN + "\n")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    PORT = httpd.server_address[1]
    cli = {
        "accessToken": STATE.issue(resource()),
        "expiresOn": "2099-01-01 00:00:00.000000",
        "expires_on": 4070908800,
        "subscription": "00000000-0000-0000-0000-000000000000",
        "tenant": TENANT,
        "tokenType": "Bearer",
    }
    with open(os.path.join(d, "cli-token.json"), "w") as f:
        json.dump(cli, f)
    ready = {
        "port": PORT,
        "vault": "https://127.0.0.1:%d" % PORT,
        "resource": resource(),
        "tenant": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "identity_header": IDENTITY_HEADER,
        "versions": {n: [v for v, _ in vs] for n, vs in STATE.keys.items()},
    }
    tmp = os.path.join(d, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ready, f)
    os.rename(tmp, os.path.join(d, "ready.json"))
    httpd.serve_forever()


if __name__ == "__main__":
    main()
