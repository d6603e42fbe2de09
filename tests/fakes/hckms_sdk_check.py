#!/usr/bin/env python3
"""Drive Huawei's official Python SDK (huaweicloudsdkkms + huaweicloudsdkcore) for veil's tests.

This is the proof that tests/fakes/hckms.py speaks Huawei Cloud KMS's wire protocol: the
vendor's own client signs the requests, builds the bodies and parses the answers. Commands
(the endpoint comes from the SDK's own HUAWEICLOUD_SDK_REGION_KMS_<REGION> variable, IAM's
from HUAWEICLOUD_SDK_IAM_ENDPOINT, the CA from --ca; credentials from
HUAWEICLOUD_SDK_AK/SK/PROJECT_ID, read by the SDK's env provider; without a project id the SDK
looks it up in IAM):

  sign-vector                      print the SDK signer's Authorization for a fixed request
  sign-vector-get                  the same for a fixed IAM project lookup (GET with a query)
  encrypt REGION KEY_UUID B64      print cipher_text of plain_text=B64 (sops's way: the base64
                                   text of the data key is the plain text)
  decrypt REGION KEY_UUID CIPHER   print the plain_text
  roundtrip REGION KEY_UUID        encrypt and decrypt 32 random bytes; print "ok"
Errors print "ERROR <status> <error_code> <error_msg>" and exit 3.
"""
import base64
import os
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.auth.provider import EnvCredentialProvider
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkkms.v2 import KmsClient
from huaweicloudsdkkms.v2.model import (DecryptDataRequest, DecryptDataRequestBody,
                                        EncryptDataRequest, EncryptDataRequestBody)
from huaweicloudsdkkms.v2.region.kms_region import KmsRegion


def sign_vector():
    # Must stay the request of `signature_matches_the_sdk_signer` in src/keys/hckms.rs.
    body = ('{"key_id": "12345678-1234-1234-1234-123456789abc", "plain_text": "AAEC", '
            '"encryption_algorithm": "SYMMETRIC_DEFAULT"}')
    req = SdkRequest(method="POST", schema="https", host="kms.tr-west-1.myhuaweicloud.com",
                     resource_path="/v1.0/0123456789abcdef0123456789abcdef/kms/encrypt-data",
                     query_params=[],
                     header_params={"Content-Type": "application/json;charset=UTF-8",
                                    "X-Project-Id": "0123456789abcdef0123456789abcdef",
                                    "X-Sdk-Date": "20260102T030405Z"},
                     body=body)
    creds = BasicCredentials("TESTAK0123456789", "test-secret-key-0123456789")
    print(Signer(creds).sign(req).header_params["Authorization"])


def sign_vector_get():
    # Must stay the request of `iam_signature_matches_the_sdk_signer` in src/keys/hckms.rs.
    req = SdkRequest(method="GET", schema="https", host="iam.tr-west-1.myhuaweicloud.com",
                     resource_path="/v3/projects", query_params=[("name", "tr-west-1")],
                     header_params={"X-Sdk-Date": "20260102T030405Z",
                                    "X-Security-Token": "tok+en/="},
                     body="")
    creds = BasicCredentials("TESTAK0123456789", "test-secret-key-0123456789")
    print(Signer(creds).sign(req).header_params["Authorization"])


def client(region, ca):
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = ca
    config.retry_times = 0
    creds = EnvCredentialProvider.get_basic().get_credentials()
    return (KmsClient.new_builder().with_http_config(config).with_credentials(creds)
            .with_region(KmsRegion.value_of(region)).build())


def main(argv):
    ca = None
    if len(argv) > 2 and argv[1] == "--ca":
        ca = argv[2]
        argv = argv[:1] + argv[3:]
    cmd = argv[1]
    if cmd == "sign-vector":
        return sign_vector()
    if cmd == "sign-vector-get":
        return sign_vector_get()
    region, key = argv[2], argv[3]
    c = client(region, ca)
    try:
        if cmd == "encrypt":
            r = c.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
                key_id=key, plain_text=argv[4], encryption_algorithm="SYMMETRIC_DEFAULT")))
            print(r.cipher_text)
        elif cmd == "decrypt":
            r = c.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
                cipher_text=argv[4], key_id=key, encryption_algorithm="SYMMETRIC_DEFAULT")))
            print(r.plain_text)
        elif cmd == "roundtrip":
            pt = base64.b64encode(os.urandom(32)).decode()
            ct = c.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
                key_id=key, plain_text=pt, encryption_algorithm="SYMMETRIC_DEFAULT"))).cipher_text
            back = c.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
                cipher_text=ct, key_id=key, encryption_algorithm="SYMMETRIC_DEFAULT"))).plain_text
            if back != pt:
                print("MISMATCH", file=sys.stderr)
                return 4
            print("ok")
        else:
            print("unknown command " + cmd, file=sys.stderr)
            return 2
    except exceptions.ClientRequestException as e:
        print("ERROR %s %s %s" % (e.status_code, e.error_code, e.error_msg))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv) or 0)
