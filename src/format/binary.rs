//! Binary files (docs/sops-format.md §3.6): any file sops cannot parse is one string leaf, `data`, and its
//! encrypted form is a JSON document `{"data": "ENC[…]", "sops": {…}}`, tab-indented.
//!
//! It exists to give the engine the same `Store`/`Parsed` interface for opaque files: the
//! plaintext side is the exact bytes (NUL and 0xFF included), the encrypted side is the JSON
//! store, reused rather than duplicated. It must never alter a byte of the plaintext: decrypting
//! writes back exactly the opened value, nothing added (no newline, no BOM).

use crate::error::{Code, Error, Result};
use crate::format::json::{self, JsonDoc};
use crate::format::{Edit, EmitOptions, Format, Parsed, Store};
use crate::tree::{walk_leaves, Item, Scalar, Value};

/// The binary store.
pub struct BinaryStore;

impl Store for BinaryStore {
    fn format(&self) -> Format {
        Format::Binary
    }

    /// The whole input is the value of `data` (a `Str` when it is UTF-8, else `Raw`; both
    /// seal as `type:str`).
    fn parse(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        let data = match std::str::from_utf8(src) {
            Ok(s) => Scalar::Str(s.to_owned()),
            Err(_) => Scalar::Raw(src.to_vec()),
        };
        Ok(Box::new(RawDoc {
            docs: vec![data_doc(data)],
        }))
    }

    /// An encrypted binary file is a JSON document; rendering it without metadata gives back
    /// the raw bytes of the opened `data`.
    fn parse_encrypted(&self, src: &[u8]) -> Result<Box<dyn Parsed>> {
        Ok(Box::new(EncryptedDoc {
            json: JsonDoc::parse(src)?,
        }))
    }

    /// With metadata: the encrypted JSON form. Without: the raw bytes of the top-level `data`
    /// string (sops's `EmitPlainFile`), an error for any other tree.
    fn emit(&self, docs: &[Value], meta: Option<&Value>, opts: &EmitOptions) -> Result<Vec<u8>> {
        if meta.is_some() {
            return json::emit(docs.first(), meta, opts);
        }
        let [doc] = docs else {
            return Err(dump_error("there must be exactly one document"));
        };
        match doc.get("data") {
            Some(Value::Scalar(s)) => raw_bytes(s),
            Some(_) => Err(dump_error(
                "'data' key in tree does not have a string value",
            )),
            None => Err(dump_error("no binary data found in tree")),
        }
    }

    /// sops's `--extract` with binary output: strings are written raw (as for every store), a
    /// map is written like a plaintext binary file (its `data`), anything else is refused.
    fn emit_value(&self, v: &Value, opts: &EmitOptions) -> Result<Vec<u8>> {
        match v {
            Value::Scalar(s @ (Scalar::Str(_) | Scalar::Raw(_) | Scalar::Bytes(_))) => raw_bytes(s),
            Value::Map(_) => self.emit(std::slice::from_ref(v), None, opts),
            _ => Err(Error::new(
                Code::ErrorDumpingTree,
                "binary files are not structured and extracting a single value is not possible",
            )
            .hint("use --output-type json or yaml to extract this value")),
        }
    }
}

fn dump_error(cause: &str) -> Error {
    Error::new(Code::ErrorDumpingTree, format!("error emitting binary store: {cause}"))
        .hint("binary output needs a document with a single string key `data`; choose another --output-type")
}

fn data_doc(data: Scalar) -> Value {
    Value::Map(vec![Item::Entry("data".into(), Value::Scalar(data))])
}

/// The exact bytes of a string-like scalar.
fn raw_bytes(s: &Scalar) -> Result<Vec<u8>> {
    match s {
        Scalar::Str(t) => Ok(t.as_bytes().to_vec()),
        Scalar::Raw(b) | Scalar::Bytes(b) => Ok(b.clone()),
        _ => Err(dump_error(
            "'data' key in tree does not have a string value",
        )),
    }
}

/// The encrypted JSON form `{"data": "…", "sops": {…}}`, tab-indented as sops writes it.
fn json_form(data: &Scalar, meta: Option<&Value>) -> Result<Vec<u8>> {
    if let Scalar::Raw(_) = data {
        // Only reachable if the engine leaves non-UTF-8 data unencrypted: JSON cannot hold it.
        return Err(Error::new(
            Code::ErrorDumpingTree,
            "the binary data is not UTF-8 and cannot be stored unencrypted in JSON",
        )
        .hint("binary files must be encrypted as a whole"));
    }
    json::emit(Some(&data_doc(data.clone())), meta, &EmitOptions::default())
}

/// A plaintext binary file.
struct RawDoc {
    docs: Vec<Value>,
}

impl RawDoc {
    fn data(&self) -> Option<&Scalar> {
        match self.docs.first()?.get("data")? {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

impl Parsed for RawDoc {
    fn docs(&self) -> &[Value] {
        &self.docs
    }

    fn metadata(&self) -> Option<&Value> {
        None
    }

    /// With metadata (or a sealed value): the encrypted JSON form. Otherwise the raw bytes.
    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        let (Some(orig), [edit]) = (self.data(), edits) else {
            return Err(Error::generic(format!(
                "internal error: {} edits for 1 binary leaf",
                edits.len()
            )));
        };
        let (value, sealed) = match edit {
            Edit::Keep => (orig.clone(), false),
            Edit::Seal(t) => (Scalar::Str(t.clone()), true),
            Edit::Open(s) => (s.clone(), false),
        };
        if meta.is_some() || sealed {
            json_form(&value, meta)
        } else {
            raw_bytes(&value)
        }
    }
}

/// An encrypted binary file: the JSON store's document, whose plaintext rendering is raw.
struct EncryptedDoc {
    json: JsonDoc,
}

impl Parsed for EncryptedDoc {
    fn docs(&self) -> &[Value] {
        self.json.docs()
    }

    fn metadata(&self) -> Option<&Value> {
        self.json.metadata()
    }

    /// With metadata, or while any leaf is sealed: the JSON document, edited in place. Without
    /// metadata: the exact bytes of the opened top-level `data` value, nothing else.
    fn render(&self, edits: &[Edit], meta: Option<&Value>) -> Result<Vec<u8>> {
        if meta.is_some() || edits.iter().any(|e| matches!(e, Edit::Seal(_))) {
            return self.json.render(edits, meta);
        }
        let mut data = None;
        walk_leaves(self.json.docs(), |i, path, s| {
            if data.is_none() && path.len() == 1 && path[0] == "data" {
                data = Some((i, s));
            }
        });
        let Some((i, orig)) = data else {
            return Err(dump_error("no binary data found in tree"));
        };
        if !matches!(
            self.json.docs().first().and_then(|d| d.get("data")),
            Some(Value::Scalar(_))
        ) {
            return Err(dump_error(
                "'data' key in tree does not have a string value",
            ));
        }
        match edits.get(i) {
            Some(Edit::Open(s)) => raw_bytes(s),
            Some(Edit::Keep) => raw_bytes(orig),
            _ => Err(Error::generic(
                "internal error: no edit for the binary data leaf",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]";

    fn meta() -> Value {
        Value::Map(vec![
            Item::Entry("lastmodified".into(), Value::str("2026-11-29T00:16:37Z")),
            Item::Entry(
                "mac".into(),
                Value::str("ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]"),
            ),
            Item::Entry("version".into(), Value::str("3.11.0")),
        ])
    }

    fn leaf(p: &dyn Parsed) -> Scalar {
        let mut v = Vec::new();
        walk_leaves(p.docs(), |_, path, s| {
            assert_eq!(path, ["data".to_string()]);
            v.push(s.clone());
        });
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    fn round_trip(plain: &[u8]) {
        let store = BinaryStore;
        let p = store.parse(plain).unwrap();
        assert!(p.metadata().is_none());
        let orig = leaf(p.as_ref());
        assert_eq!(orig.plaintext(), plain);
        // Keep without metadata is the file itself.
        assert_eq!(p.render(&[Edit::Keep], None).unwrap(), plain);

        let enc = p
            .render(&[Edit::Seal(TOKEN.into())], Some(&meta()))
            .unwrap();
        let want = format!(
            "{{\n\t\"data\": \"{TOKEN}\",\n\t\"sops\": {{\n\t\t\"lastmodified\": \"2026-11-29T00:16:37Z\",\n\t\t\"mac\": \"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]\",\n\t\t\"version\": \"3.11.0\"\n\t}}\n}}\n"
        );
        assert_eq!(String::from_utf8(enc.clone()).unwrap(), want);

        let e = store.parse_encrypted(&enc).unwrap();
        assert_eq!(e.metadata(), Some(&meta()));
        assert_eq!(leaf(e.as_ref()), Scalar::Str(TOKEN.into()));
        // The engine opens the token into the scalar sops's `str` type gives back.
        let opened = Scalar::from_plaintext("str", plain.to_vec()).unwrap();
        assert_eq!(e.render(&[Edit::Open(opened)], None).unwrap(), plain);
        // Re-rendering with metadata (rotate, updatekeys) keeps the JSON form.
        assert_eq!(e.render(&[Edit::Keep], Some(&meta())).unwrap(), enc);
    }

    #[test]
    fn binary_round_trips() {
        round_trip(b"hello\n");
        round_trip(b"");
        round_trip(b"\x00\xff\xfe\x00 NUL and 0xFF\r\n");
        round_trip("ünïcode ✓ 😀 \"quotes\" <tags> & \\".as_bytes());
        let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        round_trip(&all);
    }

    #[test]
    fn utf8_is_str_and_other_bytes_raw() {
        let s = BinaryStore.parse(b"text").unwrap();
        assert_eq!(leaf(s.as_ref()), Scalar::Str("text".into()));
        let r = BinaryStore.parse(b"\xff").unwrap();
        assert_eq!(leaf(r.as_ref()), Scalar::Raw(vec![0xff]));
        assert_eq!(leaf(r.as_ref()).type_name(), "str");
    }

    #[test]
    fn emit_plain_needs_a_data_string() {
        let o = EmitOptions::default();
        let ok = data_doc(Scalar::Raw(vec![0, 0xff]));
        assert_eq!(BinaryStore.emit(&[ok], None, &o).unwrap(), vec![0, 0xff]);
        let other = Value::Map(vec![Item::Entry("x".into(), Value::str("y"))]);
        assert_eq!(
            BinaryStore.emit(&[other], None, &o).unwrap_err().code,
            Code::ErrorDumpingTree
        );
        let nested = Value::Map(vec![Item::Entry("data".into(), Value::Map(vec![]))]);
        assert_eq!(
            BinaryStore.emit(&[nested], None, &o).unwrap_err().code,
            Code::ErrorDumpingTree
        );
        let int = data_doc(Scalar::Int(1));
        assert_eq!(
            BinaryStore.emit(&[int], None, &o).unwrap_err().code,
            Code::ErrorDumpingTree
        );
        assert_eq!(
            BinaryStore.emit(&[], None, &o).unwrap_err().code,
            Code::ErrorDumpingTree
        );
        // With metadata it is the JSON form.
        let enc = BinaryStore
            .emit(&[data_doc(Scalar::Str(TOKEN.into()))], Some(&meta()), &o)
            .unwrap();
        assert!(enc.starts_with(b"{\n\t\"data\": \"ENC["));
    }

    #[test]
    fn emit_value() {
        let o = EmitOptions::default();
        assert_eq!(BinaryStore.emit_value(&Value::str("x"), &o).unwrap(), b"x");
        assert_eq!(
            BinaryStore
                .emit_value(&Value::Scalar(Scalar::Int(1)), &o)
                .unwrap_err()
                .code,
            Code::ErrorDumpingTree
        );
        assert_eq!(
            BinaryStore
                .emit_value(&Value::List(vec![]), &o)
                .unwrap_err()
                .code,
            Code::ErrorDumpingTree
        );
        assert_eq!(
            BinaryStore
                .emit_value(&data_doc(Scalar::Str("d".into())), &o)
                .unwrap(),
            b"d"
        );
    }

    #[test]
    fn encrypted_form_errors() {
        // Not JSON: exit 2 from the JSON store.
        assert_eq!(
            BinaryStore
                .parse_encrypted(b"\x00\xff")
                .err()
                .map(|e| e.code),
            Some(Code::CouldNotReadInputFile)
        );
        // No data key: nothing to write.
        let e = BinaryStore
            .parse_encrypted(br#"{"other": "x", "sops": {}}"#)
            .unwrap();
        assert_eq!(
            e.render(&[Edit::Keep], None).unwrap_err().code,
            Code::ErrorDumpingTree
        );
        let e = BinaryStore
            .parse_encrypted(br#"{"data": {"x": "y"}, "sops": {}}"#)
            .unwrap();
        assert_eq!(
            e.render(&[Edit::Keep], None).unwrap_err().code,
            Code::ErrorDumpingTree
        );
        let e = BinaryStore
            .parse_encrypted(br#"{"data": 5, "sops": {}}"#)
            .unwrap();
        assert_eq!(
            e.render(&[Edit::Open(Scalar::Int(5))], None)
                .unwrap_err()
                .code,
            Code::ErrorDumpingTree
        );
    }

    #[test]
    fn non_utf8_cannot_stay_plain_in_json() {
        let p = BinaryStore.parse(b"\xff").unwrap();
        assert_eq!(
            p.render(&[Edit::Keep], Some(&meta())).unwrap_err().code,
            Code::ErrorDumpingTree
        );
    }
}
