#!/usr/bin/env python3
"""Drives Microsoft's own Azure SDK for Python (azure-keyvault-keys + azure-identity) against the
Key Vault protocol fake (tests/fakes/azure_kv.py), for veil's tests. Test-only.

    azure_kv_sdk_check.py roundtrip DIR
        secret and certificate credentials; get_key resolves the newest version; encrypt and
        decrypt RSA-OAEP-256 through the fake; a wrong secret and an unknown key fail.
    azure_kv_sdk_check.py rewrap DIR KEY_ID ENC
        decrypt ENC (base64url without padding, as sops stores it) with the SDK, check it is a
        32-byte data key or a 33-byte Shamir share, encrypt it again with the SDK and print the
        new ENC in the same encoding (so veil must open what the SDK made).

The fake's CA is trusted through `connection_verify`; the authority host is the fake, with MSAL's
instance discovery off (it would ask login.microsoftonline.com otherwise). The SDK's
challenge-resource check stays on: the fake's resource passes it (see the fake's docstring).
"""

import base64
import json
import os
import sys

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    if "=" in s:
        raise SystemExit("enc has padding: sops writes base64url without padding")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def setup(d):
    with open(os.path.join(d, "ready.json")) as f:
        r = json.load(f)
    ca = os.path.join(d, "ca.pem")
    common = dict(authority=r["vault"], disable_instance_discovery=True, connection_verify=ca)
    secret = ClientSecretCredential(r["tenant"], r["client_id"], r["client_secret"], **common)
    return r, ca, common, secret


def roundtrip(d):
    r, ca, common, secret = setup(d)
    cert = CertificateCredential(r["tenant"], r["client_id"], certificate_path=os.path.join(d, "client.pem"), **common)
    for name, cred in (("secret", secret), ("certificate", cert)):
        kc = KeyClient(r["vault"], cred, connection_verify=ca)
        key = kc.get_key("sops-key")
        assert key.properties.version == r["versions"]["sops-key"][-1], key.id
        cc = CryptographyClient(key.id, cred, connection_verify=ca)
        data = os.urandom(32)
        enc = cc.encrypt(EncryptionAlgorithm.rsa_oaep_256, data)
        assert enc.ciphertext != data and len(enc.ciphertext) == 256
        dec = cc.decrypt(EncryptionAlgorithm.rsa_oaep_256, enc.ciphertext)
        assert dec.plaintext == data, name
        # Another key must not open it: the fake's crypto is real.
        other = kc.get_key("other-key")
        try:
            CryptographyClient(other.id, cred, connection_verify=ca).decrypt(EncryptionAlgorithm.rsa_oaep_256, enc.ciphertext)
            raise SystemExit("another key decrypted the ciphertext")
        except HttpResponseError as e:
            assert e.status_code == 400, e
        print("ok %s" % name)
    try:
        KeyClient(r["vault"], secret, connection_verify=ca).get_key("no-such-key")
        raise SystemExit("an unknown key was found")
    except ResourceNotFoundError as e:
        assert "KeyNotFound" in str(e), e
    bad = ClientSecretCredential(r["tenant"], r["client_id"], "wrong-secret", **common)
    try:
        KeyClient(r["vault"], bad, connection_verify=ca).get_key("sops-key")
        raise SystemExit("a wrong secret got a token")
    except ClientAuthenticationError as e:
        assert "AADSTS7000215" in str(e), e
    print("ok errors")


def rewrap(d, key_id, enc):
    r, ca, common, secret = setup(d)
    cc = CryptographyClient(key_id, secret, connection_verify=ca)
    pt = cc.decrypt(EncryptionAlgorithm.rsa_oaep_256, unb64u(enc)).plaintext
    assert len(pt) in (32, 33), len(pt)
    again = cc.encrypt(EncryptionAlgorithm.rsa_oaep_256, pt).ciphertext
    assert again != unb64u(enc)
    print(b64u(again))


if __name__ == "__main__":
    if sys.argv[1] == "roundtrip":
        roundtrip(sys.argv[2])
    elif sys.argv[1] == "rewrap":
        rewrap(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit("unknown mode")
