#!/usr/bin/env python3
"""Drives Google's own Cloud KMS client (google-cloud-kms, REST transport) against an endpoint,
for veil's tests: it proves the protocol fake in gcp_kms.py speaks what Google's client speaks,
and that veil's wrapped data keys are what that client makes and reads.

Usage: gcp_kms_sdk_check.py ENDPOINT TOKEN MODE RESOURCE_ID [OTHER_RESOURCE_ID]
  ENDPOINT   e.g. http://127.0.0.1:PORT or https://127.0.0.1:PORT (trust via REQUESTS_CA_BUNDLE)
  MODE       selftest  encrypt and decrypt through the client; a wrong key, a wrong token and an
                       unknown key must fail as Google's client fails for the HTTP status
                       (400 BadRequest, 403 Forbidden, 401 -> a refresh attempt, RefreshError)
             encrypt   stdin: base64 plaintext -> stdout: base64 ciphertext
             decrypt   stdin: base64 ciphertext -> stdout: base64 plaintext
Exit 0 on success; on failure, one line on stderr and exit 1.
"""

import base64
import sys

from google.api_core import exceptions
from google.auth.exceptions import RefreshError
from google.cloud import kms
from google.oauth2.credentials import Credentials


def client(endpoint, token):
    return kms.KeyManagementServiceClient(
        credentials=Credentials(token),
        transport="rest",
        client_options={"api_endpoint": endpoint},
    )


def expect(exc, fn, what):
    try:
        fn()
    except exc:
        return
    except Exception as e:  # the wrong error type is a failure too
        sys.exit("%s: expected %s, got %r" % (what, exc.__name__, e))
    sys.exit("%s: expected %s, got success" % (what, exc.__name__))


def main():
    endpoint, token, mode, key = sys.argv[1:5]
    other = sys.argv[5] if len(sys.argv) > 5 else None
    c = client(endpoint, token)
    if mode == "encrypt":
        pt = base64.b64decode(sys.stdin.read().strip())
        r = c.encrypt(request={"name": key, "plaintext": pt})
        print(base64.b64encode(r.ciphertext).decode())
    elif mode == "decrypt":
        ct = base64.b64decode(sys.stdin.read().strip())
        r = c.decrypt(request={"name": key, "ciphertext": ct})
        print(base64.b64encode(r.plaintext).decode())
    elif mode == "selftest":
        secret = bytes(range(32))
        r = c.encrypt(request={"name": key, "plaintext": secret})
        assert r.ciphertext and r.ciphertext != secret, "no ciphertext"
        assert r.name.startswith(key + "/cryptoKeyVersions/"), r.name
        d = c.decrypt(request={"name": key, "ciphertext": r.ciphertext})
        assert d.plaintext == secret, "round trip changed the secret"
        # With additional authenticated data: it must match on the way back.
        r2 = c.encrypt(request={"name": key, "plaintext": secret, "additional_authenticated_data": b"ctx"})
        d2 = c.decrypt(request={"name": key, "ciphertext": r2.ciphertext, "additional_authenticated_data": b"ctx"})
        assert d2.plaintext == secret
        expect(exceptions.BadRequest,
               lambda: c.decrypt(request={"name": key, "ciphertext": r2.ciphertext}), "wrong AAD")
        if other:
            expect(exceptions.BadRequest,
                   lambda: c.decrypt(request={"name": other, "ciphertext": r.ciphertext}), "wrong key")
        missing = key.rsplit("/", 1)[0] + "/no-such-key"
        expect(exceptions.Forbidden,
               lambda: c.encrypt(request={"name": missing, "plaintext": secret}), "unknown key")
        # google-auth answers a 401 by refreshing the credentials, which a bare token cannot:
        # the RefreshError is how the client reports the fake's 401.
        bad = client(endpoint, token + "-wrong")
        expect(RefreshError,
               lambda: bad.decrypt(request={"name": key, "ciphertext": r.ciphertext}), "wrong token")
        print("ok")
    else:
        sys.exit("unknown mode %r" % mode)


if __name__ == "__main__":
    try:
        main()
    except exceptions.GoogleAPICallError as e:
        sys.exit("google-cloud-kms: %s %s" % (type(e).__name__, e.message))
