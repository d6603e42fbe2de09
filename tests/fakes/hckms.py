#!/usr/bin/env python3
"""A PROTOCOL FAKE of Huawei Cloud KMS's data encryption API, for veil's tests only.

It is not Huawei's service and not an emulator of it: it implements the two calls sops uses
(POST /v1.0/{project_id}/kms/encrypt-data and decrypt-data), IAM's project list (GET
/v3/projects?name=REGION, where the SDKs find a missing project id), their JSON fields, the
SDK-HMAC-SHA256 request signature (recomputed from the known AK/SK and compared), the
X-Project-Id and X-Security-Token headers, and error bodies in the shapes Huawei's SDKs parse.
Error codes are the fake's own choice in Huawei's style. That the fake speaks the real wire
protocol is proved by tests/fakes/hckms_sdk_check.py, which drives Huawei's official Python
SDK against it.

Wrapping is real encryption: every key id it is given gets a random AES-256-GCM key kept in
memory, the cipher text names the key, and decrypting under another key id fails.

Usage: hckms.py --port P --dir D --ak AK --sk SK --project PID --keys UUID[,UUID...]
               [--security-token T] [--project-regions R1,R2] [--plain-http]
It writes D/ca.pem (a throwaway CA that signed its 127.0.0.1 certificate), appends one line per
request to D/requests.log, creates D/ready when listening, and exits after an hour at most.
Python stdlib plus `cryptography` (for the certificates and AES-GCM).
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
import ipaddress

MAX_SKEW = datetime.timedelta(minutes=15)
FORMAT = b"\x01"


def make_certs(d):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veil test CA (hckms fake)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(d, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(os.path.join(d, "server.key"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def canonical_uri(path):
    uri = "/".join(quote(seg, safe="~") for seg in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query):
    params = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join("%s=%s" % (quote(k, safe="~"), quote(v, safe="~")) for k, v in params)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cfg = None
    keys = {}
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):
        sys.stderr.write("hckms-fake: " + (fmt % args) + "\n")

    def record(self, status):
        with self.log_lock:
            with open(os.path.join(self.cfg.dir, "requests.log"), "a") as f:
                f.write("%s %s %d\n" % (self.command, self.path, status))

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", uuid.uuid4().hex)
        self.end_headers()
        self.wfile.write(data)

    def gateway_error(self, status, code, msg):
        # The API gateway's shape: flat, with a request id.
        self.reply(status, {"error_code": code, "error_msg": msg, "request_id": uuid.uuid4().hex})

    def kms_error(self, status, code, msg):
        # KMS's own shape: nested under "error".
        self.reply(status, {"error": {"error_code": code, "error_msg": msg}})

    def check_signature(self, body):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("SDK-HMAC-SHA256 "):
            return "missing or unsupported Authorization"
        fields = {}
        for part in auth[len("SDK-HMAC-SHA256 "):].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v
        if fields.get("Access") != self.cfg.ak:
            return "unknown access key"
        signed = fields.get("SignedHeaders", "").split(";")
        if "host" not in signed or "x-sdk-date" not in signed:
            return "host and x-sdk-date must be signed"
        date = self.headers.get("X-Sdk-Date", "")
        try:
            t = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return "bad X-Sdk-Date"
        if abs(datetime.datetime.now(datetime.timezone.utc) - t) > MAX_SKEW:
            return "request expired (X-Sdk-Date too far from now)"
        lines = []
        for h in signed:
            v = self.headers.get(h)
            if v is None:
                return "signed header %s is missing" % h
            lines.append("%s:%s\n" % (h, v.strip()))
        path, _, query = self.path.partition("?")
        payload = self.headers.get("X-Sdk-Content-Sha256") or hashlib.sha256(body).hexdigest()
        canonical = "%s\n%s\n%s\n%s\n%s\n%s" % (self.command, canonical_uri(path),
                                                canonical_query(query), "".join(lines),
                                                ";".join(signed), payload)
        to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (date, hashlib.sha256(canonical.encode()).hexdigest())
        want = hmac.new(self.cfg.sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, fields.get("Signature", "")):
            return "verify aksk signature fail"
        if self.cfg.security_token and self.headers.get("X-Security-Token") != self.cfg.security_token:
            return "security token missing or wrong"
        return None

    def do_GET(self):
        # IAM's project list, which the SDKs (and veil) call when no project id is given.
        path, _, query = self.path.partition("?")
        if path != "/v3/projects":
            return self.gateway_error(404, "APIGW.0101",
                                      "The API does not exist or has not been published")
        bad = self.check_signature(b"")
        if bad:
            return self.gateway_error(401, "APIGW.0301",
                                      "Incorrect IAM authentication information: " + bad)
        name = dict(parse_qsl(query)).get("name")
        projects = [{"id": self.cfg.project, "name": name, "domain_id": "0" * 32,
                     "enabled": True, "is_domain": False, "parent_id": "0" * 32}] \
            if name in self.cfg.project_regions.split(",") else []
        self.reply(200, {"projects": projects, "links": {"self": "https://iam.fake/v3/projects"}})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        bad = self.check_signature(body)
        if bad:
            return self.gateway_error(401, "APIGW.0301",
                                      "Incorrect IAM authentication information: " + bad)
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[0] != "v1.0" or parts[2] != "kms":
            return self.gateway_error(404, "APIGW.0101",
                                      "The API does not exist or has not been published")
        if parts[1] != self.cfg.project or self.headers.get("X-Project-Id") != self.cfg.project:
            return self.gateway_error(403, "APIGW.0306", "project id does not match the credentials")
        try:
            req = json.loads(body)
        except ValueError:
            return self.kms_error(400, "KMS.0201", "Invalid request body.")
        if not isinstance(req, dict):
            return self.kms_error(400, "KMS.0201", "Invalid request body.")
        if req.get("encryption_algorithm", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            return self.kms_error(400, "KMS.0201", "Unsupported encryption_algorithm.")
        if parts[3] == "encrypt-data":
            return self.encrypt(req)
        if parts[3] == "decrypt-data":
            return self.decrypt(req)
        return self.gateway_error(404, "APIGW.0101", "The API does not exist or has not been published")

    def encrypt(self, req):
        key_id, plain = req.get("key_id"), req.get("plain_text")
        if not isinstance(plain, str) or not 1 <= len(plain.encode()) <= 4096:
            return self.kms_error(400, "KMS.0201", "plain_text must be 1 to 4096 bytes.")
        k = self.keys.get(key_id)
        if k is None:
            return self.kms_error(404, "KMS.0205", "The key %s does not exist." % key_id)
        nonce = os.urandom(12)
        kid = key_id.encode()
        ct = AESGCM(k).encrypt(nonce, plain.encode(), kid)
        blob = FORMAT + bytes([len(kid)]) + kid + nonce + ct
        self.reply(200, {"key_id": key_id, "cipher_text": base64.b64encode(blob).decode()})

    def decrypt(self, req):
        try:
            blob = base64.b64decode(req.get("cipher_text", ""), validate=True)
            assert blob[:1] == FORMAT
            n = blob[1]
            kid, nonce, ct = blob[2:2 + n].decode(), blob[2 + n:14 + n], blob[14 + n:]
        except Exception:
            return self.kms_error(400, "KMS.0207", "Invalid cipher_text.")
        asked = req.get("key_id")
        if asked and asked != kid:
            return self.kms_error(400, "KMS.0208", "The cipher_text was not made by key %s." % asked)
        k = self.keys.get(kid)
        if k is None:
            return self.kms_error(404, "KMS.0205", "The key %s does not exist." % kid)
        try:
            plain = AESGCM(k).decrypt(nonce, ct, kid.encode())
        except Exception:
            return self.kms_error(400, "KMS.0207", "Failed to decrypt the cipher_text.")
        self.reply(200, {"key_id": kid, "plain_text": plain.decode(),
                         "plain_text_base64": base64.b64encode(plain).decode()})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--ak", required=True)
    p.add_argument("--sk", required=True)
    p.add_argument("--project", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--security-token", default="")
    p.add_argument("--project-regions", default="tr-west-1")
    p.add_argument("--plain-http", action="store_true")
    cfg = p.parse_args()
    Handler.cfg = cfg
    Handler.keys = {k: AESGCM.generate_key(bit_length=256) for k in cfg.keys.split(",") if k}
    srv = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    if not cfg.plain_http:
        make_certs(cfg.dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cfg.dir, "server.pem"), os.path.join(cfg.dir, "server.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Timer(3600, lambda: os._exit(0)).start()
    open(os.path.join(cfg.dir, "ready"), "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
