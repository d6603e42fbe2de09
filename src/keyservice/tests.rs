//! Wire-format checks. The expected bytes are worked out by hand from the protobuf encoding
//! rules (tag = field << 3 | wire type; 2 = length-delimited) against sops's
//! `keyservice.proto`; the interop tests then check the same messages against a real sops.

use super::grpc;
use super::proto::*;
use super::*;
use prost::Message;
use std::collections::BTreeMap;

#[test]
fn decrypt_request_for_an_age_key_has_sops_field_numbers() {
    let req = DecryptRequest {
        key: Some(key_to_proto(&KeyRef::Age {
            recipient: "age1x".into(),
        })),
        ciphertext: b"abc".to_vec(),
    };
    let want: &[u8] = &[
        0x0a, 0x09, // DecryptRequest.key (1), 9 bytes
        0x32, 0x07, // Key.age_key (6), 7 bytes
        0x0a, 0x05, b'a', b'g', b'e', b'1', b'x', // AgeKey.recipient (1)
        0x12, 0x03, b'a', b'b', b'c', // DecryptRequest.ciphertext (2)
    ];
    assert_eq!(req.encode_to_vec(), want);
    assert_eq!(DecryptRequest::decode(want).unwrap(), req);
}

#[test]
fn every_key_kind_uses_its_oneof_tag() {
    let ctx: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
    let cases: Vec<(KeyRef, u8)> = vec![
        (
            KeyRef::Kms {
                arn: "A".into(),
                role: "R".into(),
                context: ctx,
                aws_profile: "P".into(),
            },
            1,
        ),
        (
            KeyRef::Pgp {
                fingerprint: "F".into(),
            },
            2,
        ),
        (
            KeyRef::GcpKms {
                resource_id: "G".into(),
            },
            3,
        ),
        (
            KeyRef::AzureKv {
                vault_url: "U".into(),
                name: "N".into(),
                version: "V".into(),
            },
            4,
        ),
        (
            KeyRef::HcVault {
                address: "H".into(),
                engine_path: "E".into(),
                key_name: "K".into(),
            },
            5,
        ),
        (
            KeyRef::Age {
                recipient: "X".into(),
            },
            6,
        ),
        (KeyRef::Hckms { key_id: "I".into() }, 7),
    ];
    for (k, tag) in cases {
        let bytes = key_to_proto(&k).encode_to_vec();
        assert_eq!(bytes[0], tag << 3 | 2, "{k:?}");
        let back = key_from_proto(&Key::decode(bytes.as_slice()).unwrap()).unwrap();
        assert_eq!(back, k);
    }
}

#[test]
fn kms_key_fields_and_context_map_encode_as_the_proto_says() {
    let k = KmsKey {
        arn: "A".into(),
        role: "R".into(),
        context: [("k".to_string(), "v".to_string())].into(),
        aws_profile: "P".into(),
    };
    let want: &[u8] = &[
        0x0a, 0x01, b'A', // arn (1)
        0x12, 0x01, b'R', // role (2)
        0x1a, 0x06, 0x0a, 0x01, b'k', 0x12, 0x01,
        b'v', // context (3): map entry {1: key, 2: value}
        0x22, 0x01, b'P', // aws_profile (4)
    ];
    assert_eq!(k.encode_to_vec(), want);
}

#[test]
fn responses_and_encrypt_request_use_their_field_numbers() {
    let e = EncryptRequest {
        key: None,
        plaintext: vec![1, 2],
    };
    assert_eq!(e.encode_to_vec(), [0x12, 0x02, 1, 2]);
    let r = EncryptResponse {
        ciphertext: b"c".to_vec(),
    };
    assert_eq!(r.encode_to_vec(), [0x0a, 0x01, b'c']);
    let d = DecryptResponse { plaintext: vec![9] };
    assert_eq!(d.encode_to_vec(), [0x0a, 0x01, 9]);
}

#[test]
fn messages_holding_a_data_key_do_not_show_it_in_debug() {
    let e = EncryptRequest {
        key: None,
        plaintext: vec![0x5a; 32],
    };
    let d = DecryptResponse {
        plaintext: vec![0x5a; 32],
    };
    for s in [format!("{e:?}"), format!("{d:?}")] {
        assert!(!s.contains("90") && !s.contains("5a"), "{s}");
        assert!(s.contains("32 bytes"), "{s}");
    }
}

#[test]
fn grpc_frames_are_length_prefixed_and_checked() {
    let r = EncryptResponse {
        ciphertext: b"xyz".to_vec(),
    };
    let f = grpc::frame(&r);
    assert_eq!(&f[..5], &[0, 0, 0, 0, 5]);
    assert_eq!(grpc::unframe(&f).unwrap(), &f[5..]);
    assert!(grpc::unframe(&f[..f.len() - 1]).is_err());
    assert!(grpc::unframe(&[1, 0, 0, 0, 0]).is_err(), "compressed");
    assert!(grpc::unframe(&[0, 0]).is_err());
}

#[test]
fn grpc_message_escaping_round_trips() {
    let m = "no identity: 100% ünïcode\nline";
    let e = grpc::encode_message(m);
    assert!(e.is_ascii() && !e.contains('\n'));
    assert_eq!(grpc::decode_message(&e), m);
    assert_eq!(grpc::decode_message("bad %zz %4"), "bad %zz %4");
}

#[test]
fn keyservice_uris_parse_as_sops_writes_them() {
    assert_eq!(
        Endpoint::parse_uri("unix:///run/ks.sock").unwrap(),
        Endpoint::Unix("/run/ks.sock".into())
    );
    assert_eq!(
        Endpoint::parse_uri("unix:/run/ks.sock").unwrap(),
        Endpoint::Unix("/run/ks.sock".into())
    );
    assert_eq!(
        Endpoint::parse_uri("tcp://127.0.0.1:5000").unwrap(),
        Endpoint::Tcp("127.0.0.1:5000".into())
    );
    for bad in [
        "127.0.0.1:5000",
        "http://x:1",
        "tcp://",
        "tcp://host",
        "unix://relative",
    ] {
        assert!(Endpoint::parse_uri(bad).is_err(), "{bad}");
    }
}
