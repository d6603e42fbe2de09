//! From an opened document to environment variables, for `veil exec-env`.
//!
//! sops takes the top-level items of the first document, skips comments, renders non-strings
//! with `ValToString` (docs/sops-format.md §7.5) and refuses nested maps and lists ("cannot use complex value in
//! environment"). veil does the same, except that by default it flattens nested values: path
//! segments are joined with a separator (`__`), list indices become segments, so
//! `DB: {HOST: h}` gives `DB__HOST=h`. `--no-flatten` restores sops's error.
//!
//! Names that cannot exist in an environment (empty, containing `=` or a NUL byte) and two
//! values landing on the same name are errors, reported by name; nothing is dropped silently.
//! This module must never quote a value: messages carry variable names and key paths only.

use crate::error::{Error, Result};
use crate::tree::{Item, Scalar, Value};
use std::fmt;
use zeroize::Zeroizing;

/// How nested values become variables.
#[derive(Clone, Debug)]
pub struct EnvOptions {
    /// Join nested keys into one name (veil's default); `false` is sops's behaviour, an error.
    pub flatten: bool,
    /// What joins the segments of a flattened name (default `__`).
    pub separator: String,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            flatten: true,
            separator: "__".to_string(),
        }
    }
}

/// One variable to set in the child's environment. The value is raw bytes (the binary store's
/// `data` need not be UTF-8) and is wiped from memory when dropped.
pub struct EnvVar {
    pub name: String,
    pub value: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvVar({}=<redacted>)", self.name)
    }
}

/// A name every POSIX shell keeps and can expand: `[A-Za-z_][A-Za-z0-9_]*`. Other names are
/// still passed to a program started without a shell, but `/bin/sh` (dash) drops them.
pub fn is_portable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The variables for the first document of a file, in document order.
pub fn env_from_doc(doc: &Value, opts: &EnvOptions) -> Result<Vec<EnvVar>> {
    let items = match doc {
        Value::Map(items) => items,
        Value::Null => return Ok(Vec::new()),
        _ => return Err(Error::generic(
            "cannot use a document that is not a map as an environment",
        )
        .hint("exec-env needs KEY: value pairs at the top level; use exec-file for other shapes")),
    };
    let mut out: Vec<EnvVar> = Vec::new();
    // Each name's index in `out` and the key path it came from, to report collisions by path
    // (a map: a scan of `out` per variable was quadratic in the number of keys).
    let mut origins = Origins::new();
    for item in items {
        let Item::Entry(key, value) = item else {
            continue; // comments are skipped, as sops does
        };
        if !opts.flatten && matches!(value, Value::Map(_) | Value::List(_)) {
            return Err(Error::generic(format!(
                "cannot use complex value in environment; offending key {key}"
            ))
            .hint(format!(
                "drop --no-flatten to get nested values as {key}{}CHILD variables",
                opts.separator
            )));
        }
        let mut path = vec![key.clone()];
        collect(value, &mut path, opts, &mut out, &mut origins)?;
    }
    Ok(out)
}

fn collect(
    value: &Value,
    path: &mut Vec<String>,
    opts: &EnvOptions,
    out: &mut Vec<EnvVar>,
    origins: &mut Origins,
) -> Result<()> {
    match value {
        Value::Map(items) => {
            for item in items {
                if let Item::Entry(k, v) = item {
                    path.push(k.clone());
                    collect(v, path, opts, out, origins)?;
                    path.pop();
                }
            }
            Ok(())
        }
        Value::List(elems) => {
            // sops keeps YAML list comments as list elements; they are not values, so they
            // neither become variables nor take an index.
            let values = elems
                .iter()
                .filter(|e| !matches!(e, Value::Scalar(Scalar::Comment(_))));
            for (i, v) in values.enumerate() {
                path.push(i.to_string());
                collect(v, path, opts, out, origins)?;
                path.pop();
            }
            Ok(())
        }
        Value::Scalar(Scalar::Comment(_)) => Ok(()),
        Value::Scalar(s) => push(path, scalar_bytes(s), opts, out, origins),
        // sops renders a null with Go's `%v` as `<nil>`; veil sets an empty variable.
        Value::Null => push(path, Zeroizing::new(Vec::new()), opts, out, origins),
    }
}

/// `ValToString` (docs/sops-format.md §7.5) as bytes: strings and raw bytes pass unchanged, multi-line included.
fn scalar_bytes(s: &Scalar) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(match s {
        Scalar::Str(t) => t.as_bytes().to_vec(),
        Scalar::Raw(b) | Scalar::Bytes(b) => b.clone(),
        other => other.to_env_string().into_bytes(),
    })
}

fn push(
    path: &[String],
    value: Zeroizing<Vec<u8>>,
    opts: &EnvOptions,
    out: &mut Vec<EnvVar>,
    origins: &mut Origins,
) -> Result<()> {
    let name = path.join(&opts.separator);
    let shown = || key_path(path);
    if name.is_empty() {
        return Err(Error::generic(format!(
            "cannot use an empty name as an environment variable (key {})",
            shown()
        ))
        .hint("rename the key in the file"));
    }
    if name.contains('=') {
        return Err(
            Error::generic(format!("cannot use keys with '=' in environment: {name}"))
                .hint("rename the key, or pick a --separator without '='"),
        );
    }
    if name.contains('\0') {
        return Err(Error::generic(format!(
            "cannot use a name with a NUL byte in environment (key {})",
            shown()
        ))
        .hint("rename the key in the file"));
    }
    if value.contains(&0) {
        return Err(Error::generic(format!(
            "the value of {name} contains a NUL byte, which an environment cannot hold"
        ))
        .hint("use `veil exec-file` to pass this value as a file"));
    }
    match origins.entry(name) {
        std::collections::hash_map::Entry::Occupied(first) => Err(Error::generic(format!(
            "two values map to the environment variable {}: keys {} and {}",
            first.key(),
            key_path(first.get()),
            shown()
        ))
        .hint("rename one of the keys, or pick another --separator")),
        std::collections::hash_map::Entry::Vacant(slot) => {
            out.push(EnvVar {
                name: slot.key().clone(),
                value,
            });
            slot.insert(path.to_vec());
            Ok(())
        }
    }
}

/// The names given so far, each with the key path it came from.
type Origins = std::collections::HashMap<String, Vec<String>>;

/// A key path in sops's `--extract` syntax, e.g. `["DB"]["HOST"]`; list indices are numbers.
fn key_path(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("[{p:?}]"))
        .collect::<Vec<_>>()
        .join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(k: &str, v: Value) -> Item {
        Item::Entry(k.to_string(), v)
    }

    fn pairs(vars: &[EnvVar]) -> Vec<(String, String)> {
        vars.iter()
            .map(|v| {
                (
                    v.name.clone(),
                    String::from_utf8_lossy(&v.value).into_owned(),
                )
            })
            .collect()
    }

    fn p(n: &str, v: &str) -> (String, String) {
        (n.to_string(), v.to_string())
    }

    #[test]
    fn flat_values_use_val_to_string_and_skip_comments() {
        let doc = Value::Map(vec![
            Item::Comment(Scalar::Comment(" top".into())),
            entry("A", Value::str("hello")),
            entry("N", Value::Scalar(Scalar::Int(42))),
            entry("F", Value::Scalar(Scalar::Float("2.0".into()))),
            entry("G", Value::Scalar(Scalar::Float("1234567.0".into()))),
            entry("B", Value::Scalar(Scalar::Bool(true))),
            entry("M", Value::str("line1\nline2\n")),
            entry(
                "T",
                Value::Scalar(Scalar::Time("2025-01-02T03:04:05.5Z".into())),
            ),
            entry("E", Value::Null),
        ]);
        let vars = env_from_doc(&doc, &EnvOptions::default()).unwrap();
        assert_eq!(
            pairs(&vars),
            vec![
                p("A", "hello"),
                p("N", "42"),
                p("F", "2.0"),
                p("G", "1.234567E+06"),
                p("B", "true"),
                p("M", "line1\nline2\n"),
                p("T", "2025-01-02T03:04:05Z"),
                p("E", ""),
            ]
        );
    }

    fn nested() -> Value {
        Value::Map(vec![
            entry("A", Value::str("x")),
            entry(
                "DB",
                Value::Map(vec![
                    Item::Comment(Scalar::Comment(" inner".into())),
                    entry("HOST", Value::str("h")),
                    entry("PORT", Value::Scalar(Scalar::Int(5432))),
                ]),
            ),
            entry(
                "L",
                Value::List(vec![
                    Value::Scalar(Scalar::Comment(" a list comment".into())),
                    Value::str("one"),
                    Value::Map(vec![entry("k", Value::str("two"))]),
                    Value::List(vec![Value::str("three")]),
                ]),
            ),
        ])
    }

    #[test]
    fn nested_values_are_flattened_with_the_separator() {
        let vars = env_from_doc(&nested(), &EnvOptions::default()).unwrap();
        assert_eq!(
            pairs(&vars),
            vec![
                p("A", "x"),
                p("DB__HOST", "h"),
                p("DB__PORT", "5432"),
                p("L__0", "one"),
                p("L__1__k", "two"),
                p("L__2__0", "three"),
            ]
        );
        let opts = EnvOptions {
            flatten: true,
            separator: "_".into(),
        };
        let vars = env_from_doc(&nested(), &opts).unwrap();
        assert_eq!(vars[1].name, "DB_HOST");
        assert_eq!(vars[4].name, "L_1_k");
    }

    #[test]
    fn no_flatten_restores_sops_error_without_the_value() {
        let opts = EnvOptions {
            flatten: false,
            ..EnvOptions::default()
        };
        let e = env_from_doc(&nested(), &opts).unwrap_err();
        assert_eq!(
            e.message,
            "cannot use complex value in environment; offending key DB"
        );
        let shown = e.to_string();
        assert!(
            !shown.contains("5432") && !shown.contains("three"),
            "{shown}"
        );
        // Flat documents still work without flattening.
        let flat = Value::Map(vec![entry("A", Value::str("x"))]);
        assert_eq!(env_from_doc(&flat, &opts).unwrap().len(), 1);
    }

    #[test]
    fn impossible_names_are_errors_naming_the_key_not_the_value() {
        let doc = Value::Map(vec![entry("B=C", Value::str("s3cret"))]);
        let e = env_from_doc(&doc, &EnvOptions::default()).unwrap_err();
        assert_eq!(e.message, "cannot use keys with '=' in environment: B=C");
        assert!(!e.to_string().contains("s3cret"));

        let doc = Value::Map(vec![entry("", Value::str("s3cret"))]);
        let e = env_from_doc(&doc, &EnvOptions::default()).unwrap_err();
        assert!(e.message.contains("empty name"), "{}", e.message);
        assert!(!e.to_string().contains("s3cret"));

        let doc = Value::Map(vec![entry("A\0B", Value::str("s3cret"))]);
        let e = env_from_doc(&doc, &EnvOptions::default()).unwrap_err();
        assert!(e.message.contains("NUL"), "{}", e.message);

        let doc = Value::Map(vec![entry("A", Value::str("s3\0cret"))]);
        let e = env_from_doc(&doc, &EnvOptions::default()).unwrap_err();
        assert!(e.message.contains("value of A"), "{}", e.message);
        assert!(!e.to_string().contains("s3"));

        let opts = EnvOptions {
            flatten: true,
            separator: "=".into(),
        };
        let e = env_from_doc(&nested(), &opts).unwrap_err();
        assert!(e.message.contains("DB=HOST"), "{}", e.message);
    }

    #[test]
    fn collisions_are_reported_by_key_path() {
        let doc = Value::Map(vec![
            entry("DB__HOST", Value::str("a")),
            entry("DB", Value::Map(vec![entry("HOST", Value::str("b"))])),
        ]);
        let e = env_from_doc(&doc, &EnvOptions::default()).unwrap_err();
        assert_eq!(
            e.message,
            "two values map to the environment variable DB__HOST: keys [\"DB__HOST\"] and [\"DB\"][\"HOST\"]"
        );
    }

    #[test]
    fn raw_bytes_pass_unchanged() {
        let doc = Value::Map(vec![entry(
            "data",
            Value::Scalar(Scalar::Raw(vec![0xff, b'a', b'\n'])),
        )]);
        let vars = env_from_doc(&doc, &EnvOptions::default()).unwrap();
        assert_eq!(vars[0].value.as_slice(), &[0xff, b'a', b'\n']);
    }

    #[test]
    fn non_map_documents() {
        assert!(env_from_doc(&Value::Null, &EnvOptions::default())
            .unwrap()
            .is_empty());
        let e = env_from_doc(&Value::List(vec![]), &EnvOptions::default()).unwrap_err();
        assert!(e.message.contains("not a map"));
    }

    #[test]
    fn portable_names() {
        for ok in ["A", "_", "a_b1", "DB__HOST", "_9"] {
            assert!(is_portable_name(ok), "{ok}");
        }
        for bad in ["", "1A", "my-key", "a.b", "é", "A B"] {
            assert!(!is_portable_name(bad), "{bad}");
        }
    }

    #[test]
    fn debug_hides_values() {
        let v = EnvVar {
            name: "A".into(),
            value: Zeroizing::new(b"hunter2".to_vec()),
        };
        let d = format!("{v:?}");
        assert!(d.contains('A') && !d.contains("hunter2"));
    }
}
