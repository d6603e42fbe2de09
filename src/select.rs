//! Which leaves are encrypted: sops's suffix, regex and comment-regex rules (docs/sops-format.md §1.5), and
//! which leaves enter the MAC under `mac_only_encrypted`.
//!
//! It exists so that the engine never decides "seal this or not" itself: it asks a
//! [`Selector`], built once per file from the [`Rule`] (regexes compiled once), for one flag
//! per leaf in [`walk_leaves`](crate::tree::walk_leaves) order. The semantics copy sops's
//! `shouldBeEncrypted` and its comment stack exactly, because a leaf judged differently here
//! than in sops is a file sops cannot decrypt. This module must not look at crypto, formats or
//! keys, and must never put a leaf's value into an error (only key paths).

use crate::error::{Code, Error, Result};
use crate::metadata::Rule;
use crate::tree::{Item, Scalar, Value};
use regex::Regex;

/// The default `unencrypted_suffix`, used when a file or rule sets no rule at all.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

#[derive(Debug, Clone)]
enum Compiled {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    UnencryptedCommentRegex(Regex),
    EncryptedCommentRegex(Regex),
}

/// A compiled encryption rule plus `mac_only_encrypted`.
#[derive(Debug, Clone)]
pub struct Selector {
    rule: Compiled,
    mac_only_encrypted: bool,
}

fn compile(field: &str, re: &str) -> Result<Regex> {
    Regex::new(re).map_err(|e| {
        let why = match e {
            regex::Error::Syntax(_) => "invalid syntax".to_string(),
            regex::Error::CompiledTooBig(_) => "the regex is too big".to_string(),
            other => other.to_string(),
        };
        Error::new(Code::Generic, format!("invalid {field} regular expression {re:?}: {why}")).hint(
            "the rule must be an RE2 regular expression (Go's regexp syntax), e.g. ^(data|stringData)$",
        )
    })
}

impl Selector {
    /// Compile `rule`. [`Rule::None`] means the default `_unencrypted` suffix, as sops reads a
    /// file whose metadata names no rule.
    pub fn new(rule: &Rule, mac_only_encrypted: bool) -> Result<Selector> {
        let rule = match rule {
            Rule::None => Compiled::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_string()),
            Rule::UnencryptedSuffix(s) => Compiled::UnencryptedSuffix(s.clone()),
            Rule::EncryptedSuffix(s) => Compiled::EncryptedSuffix(s.clone()),
            Rule::UnencryptedRegex(r) => {
                Compiled::UnencryptedRegex(compile("unencrypted_regex", r)?)
            }
            Rule::EncryptedRegex(r) => Compiled::EncryptedRegex(compile("encrypted_regex", r)?),
            Rule::UnencryptedCommentRegex(r) => {
                Compiled::UnencryptedCommentRegex(compile("unencrypted_comment_regex", r)?)
            }
            Rule::EncryptedCommentRegex(r) => {
                Compiled::EncryptedCommentRegex(compile("encrypted_comment_regex", r)?)
            }
        };
        Ok(Selector {
            rule,
            mac_only_encrypted,
        })
    }

    pub fn mac_only_encrypted(&self) -> bool {
        self.mac_only_encrypted
    }

    /// One flag per leaf (walk order): `true` when the leaf is sealed. Empty strings and empty
    /// comments are never sealed. Works the same on a plaintext tree (encrypt) and on an
    /// encrypted one (decrypt, where comment texts in the stack are `ENC[…]` tokens), as sops.
    pub fn encrypted_leaves(&self, docs: &[Value]) -> Vec<bool> {
        let mut out = Vec::new();
        self.visit(docs, |sealed, _| out.push(sealed));
        out
    }

    /// One flag per leaf (walk order): `true` when the leaf's value enters the MAC. Comments
    /// never do; with `mac_only_encrypted` only leaves the rule encrypts do.
    pub fn mac_leaves(&self, docs: &[Value]) -> Vec<bool> {
        let mut out = Vec::new();
        self.visit(docs, |sealed, scalar| {
            out.push(!scalar.is_comment() && (!self.mac_only_encrypted || sealed))
        });
        out
    }

    /// sops refuses to write an encrypted comment that `unencrypted_comment_regex` matches,
    /// because on decryption that comment would be taken for a plain one and never opened.
    /// Call this with each sealed comment token; `path` is the comment's key path.
    pub fn check_sealed_comment(&self, sealed: &str, path: &[String]) -> Result<()> {
        if let Compiled::UnencryptedCommentRegex(re) = &self.rule {
            if re.is_match(sealed) {
                let at = if path.is_empty() {
                    "the top level".to_string()
                } else {
                    path.join(":")
                };
                return Err(Error::new(
                    Code::ErrorEncryptingTree,
                    format!("an encrypted comment at {at} matches unencrypted_comment_regex"),
                )
                .hint(
                    "make sure unencrypted_comment_regex cannot match an encrypted comment \
                     (ENC[AES256_GCM,…]), e.g. anchor it: ^ *sops:plain",
                ));
            }
        }
        Ok(())
    }

    /// Walk like `walk_leaves`, keeping sops's comment stack, and report each leaf's decision.
    fn visit<'a>(&self, docs: &'a [Value], mut f: impl FnMut(bool, &'a Scalar)) {
        let mut path = Vec::new();
        let mut stack: Vec<Vec<&'a str>> = Vec::new();
        for d in docs {
            self.walk(d, &mut path, &mut stack, &mut f);
        }
    }

    fn walk<'a>(
        &self,
        v: &'a Value,
        path: &mut Vec<&'a str>,
        stack: &mut Vec<Vec<&'a str>>,
        f: &mut dyn FnMut(bool, &'a Scalar),
    ) {
        match v {
            Value::Null => {}
            Value::Scalar(s) => f(self.decide(path, stack, s), s),
            // sops's walkSlice: a level of its own; comment elements join the active comments,
            // any other element clears them after it has been visited.
            Value::List(items) => {
                stack.push(Vec::new());
                for it in items {
                    if let Value::Scalar(Scalar::Comment(c)) = it {
                        push_comment(stack, c);
                        self.walk(it, path, stack, f);
                    } else {
                        self.walk(it, path, stack, f);
                        clear_top(stack);
                    }
                }
                stack.pop();
            }
            // sops's walkBranch: the same with comment items; a null value still clears.
            Value::Map(items) => {
                stack.push(Vec::new());
                for it in items {
                    match it {
                        Item::Comment(c) => {
                            if let Some(text) = c.as_text() {
                                push_comment(stack, text);
                            }
                            f(self.decide(path, stack, c), c);
                        }
                        Item::Entry(k, val) => {
                            path.push(k);
                            self.walk(val, path, stack, f);
                            path.pop();
                            clear_top(stack);
                        }
                    }
                }
                stack.pop();
            }
        }
    }

    /// sops's `shouldBeEncrypted`, plus "empty values are never sealed".
    /// Whether a leaf of a document without comments is sealed (the streaming YAML path:
    /// with no comments, sops's comment stack is always empty).
    pub fn seals_uncommented<S: AsRef<str>>(&self, path: &[S], s: &Scalar) -> bool {
        self.decide(path, &[], s)
    }

    fn decide<S: AsRef<str>>(&self, path: &[S], stack: &[Vec<&str>], s: &Scalar) -> bool {
        if s.is_empty_text() {
            return false;
        }
        let is_comment = s.is_comment();
        match &self.rule {
            Compiled::UnencryptedSuffix(sfx) => {
                !path.iter().any(|p| p.as_ref().ends_with(sfx.as_str()))
            }
            Compiled::EncryptedSuffix(sfx) => {
                path.iter().any(|p| p.as_ref().ends_with(sfx.as_str()))
            }
            Compiled::UnencryptedRegex(re) => !path.iter().any(|p| re.is_match(p.as_ref())),
            Compiled::EncryptedRegex(re) => path.iter().any(|p| re.is_match(p.as_ref())),
            Compiled::UnencryptedCommentRegex(re) => {
                !stack.iter().flatten().any(|c| re.is_match(c))
            }
            Compiled::EncryptedCommentRegex(re) => {
                // A comment is not judged by itself: skip the last comment of the innermost level
                // (the comment being visited), so a marker comment stays readable.
                let last_level = stack.len().wrapping_sub(1);
                stack.iter().enumerate().any(|(i, level)| {
                    level.iter().enumerate().any(|(j, c)| {
                        let is_self = is_comment && i == last_level && j + 1 == level.len();
                        !is_self && re.is_match(c)
                    })
                })
            }
        }
    }
}

fn push_comment<'a>(stack: &mut [Vec<&'a str>], c: &'a str) {
    if let Some(top) = stack.last_mut() {
        top.push(c);
    }
}

fn clear_top(stack: &mut [Vec<&str>]) {
    if let Some(top) = stack.last_mut() {
        top.clear();
    }
}

/// Convenience: compile `rule` and return which leaves of `docs` are sealed.
pub fn encrypted_leaves(docs: &[Value], rule: &Rule) -> Result<Vec<bool>> {
    Ok(Selector::new(rule, false)?.encrypted_leaves(docs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }
    fn e(k: &str, v: Value) -> Item {
        Item::Entry(k.into(), v)
    }
    fn c(t: &str) -> Item {
        Item::Comment(Scalar::Comment(t.into()))
    }
    fn lc(t: &str) -> Value {
        Value::Scalar(Scalar::Comment(t.into()))
    }
    fn map(items: Vec<Item>) -> Value {
        Value::Map(items)
    }
    fn sel(rule: Rule, doc: &Value) -> Vec<bool> {
        Selector::new(&rule, false)
            .unwrap()
            .encrypted_leaves(std::slice::from_ref(doc))
    }

    #[test]
    fn default_suffix_covers_subtrees() {
        let doc = map(vec![
            e("a", s("1")),
            e("b_unencrypted", s("2")),
            e(
                "tree_unencrypted",
                map(vec![
                    e("x", s("3")),
                    e("y", Value::List(vec![s("4"), s("5")])),
                ]),
            ),
            e(
                "list",
                Value::List(vec![map(vec![e("k_unencrypted", s("6")), e("k", s("7"))])]),
            ),
        ]);
        let want = vec![true, false, false, false, false, false, true];
        assert_eq!(sel(Rule::None, &doc), want);
        assert_eq!(
            sel(Rule::UnencryptedSuffix("_unencrypted".into()), &doc),
            want
        );
    }

    #[test]
    fn encrypted_suffix_and_empty_values() {
        let doc = map(vec![
            e("pw_enc", s("1")),
            e("plain", s("2")),
            e("grp_enc", map(vec![e("inner", s("3")), e("empty", s(""))])),
            e("n", Value::Null),
            e("i", Value::Scalar(Scalar::Int(5))),
        ]);
        assert_eq!(
            sel(Rule::EncryptedSuffix("_enc".into()), &doc),
            vec![true, false, true, false, false]
        );
        assert_eq!(sel(Rule::None, &doc), vec![true, true, true, false, true]);
    }

    #[test]
    fn kubernetes_encrypted_regex() {
        let doc = map(vec![
            e("apiVersion", s("v1")),
            e("kind", s("Secret")),
            e(
                "metadata",
                map(vec![
                    e("name", s("db")),
                    e("labels", map(vec![e("data", s("x"))])),
                ]),
            ),
            e("type", s("Opaque")),
            e("data", map(vec![e("password", s("aHVudGVyMg=="))])),
            e("stringData", map(vec![e("user", s("admin"))])),
            e("datastore", s("not matched: anchored")),
        ]);
        // metadata.labels.data matches too: any path component counts, as in sops.
        assert_eq!(
            sel(Rule::EncryptedRegex("^(data|stringData)$".into()), &doc),
            vec![false, false, false, true, false, true, true, false]
        );
        // Unanchored search.
        assert_eq!(
            sel(Rule::UnencryptedRegex("kind|type|api".into()), &doc),
            vec![false, false, true, true, false, true, true, true]
        );
    }

    #[test]
    fn comment_marker_above_a_key_covers_its_subtree() {
        let doc = map(vec![
            e("plain", s("a")),
            c(" sops:enc"),
            e(
                "data",
                map(vec![
                    e("x", s("b")),
                    c(" note"),
                    e("y", Value::List(vec![s("c"), s("d")])),
                ]),
            ),
            e("after", s("e")),
        ]);
        let got = sel(Rule::EncryptedCommentRegex("sops:enc".into()), &doc);
        // plain, marker comment (itself not sealed), x, note, y[0], y[1], after.
        assert_eq!(got, vec![false, false, true, true, true, true, false]);
    }

    #[test]
    fn encrypted_comment_regex_stack_details() {
        let doc = map(vec![
            c(" sops:enc"),
            c(" second"),
            e("a", s("1")),
            c(" orphan"),
            e("b", s("2")),
            c(" sops:enc"),
            c(" sops:enc"),
            e("c", s("3")),
        ]);
        let got = sel(Rule::EncryptedCommentRegex("sops:enc".into()), &doc);
        // The marker is plain; the next comment is sealed (a previous one matches); `a` sealed;
        // the stack is cleared after `a`, so `orphan` and `b` are plain; a second marker after
        // a first one is sealed (the first matches).
        assert_eq!(
            got,
            vec![false, true, true, false, false, false, true, true]
        );
    }

    #[test]
    fn list_comments_form_their_own_level() {
        let doc = map(vec![e(
            "items",
            Value::List(vec![
                s("a"),
                lc(" sops:enc"),
                s("b"),
                s("c"),
                lc(" sops:enc"),
                map(vec![e("k", s("d"))]),
            ]),
        )]);
        let got = sel(Rule::EncryptedCommentRegex("sops:enc".into()), &doc);
        assert_eq!(got, vec![false, false, true, false, false, true]);
    }

    #[test]
    fn unencrypted_comment_regex() {
        let doc = map(vec![
            c(" sops:plain"),
            c(" other"),
            e("a", map(vec![e("x", s("1"))])),
            c(" secret note"),
            e("b", s("2")),
            c(""),
        ]);
        let got = sel(Rule::UnencryptedCommentRegex("sops:plain".into()), &doc);
        assert_eq!(got, vec![false, false, false, true, true, false]);
    }

    #[test]
    fn comments_follow_path_rules_of_their_container() {
        let doc = map(vec![
            c(" top"),
            e("x_unencrypted", map(vec![c(" inside"), e("k", s("v"))])),
            e("y", Value::List(vec![lc(" in list"), s("w")])),
        ]);
        assert_eq!(sel(Rule::None, &doc), vec![true, false, false, true, true]);
        assert_eq!(
            sel(Rule::EncryptedRegex("^y$".into()), &doc),
            vec![false, false, false, true, true]
        );
    }

    #[test]
    fn null_entries_clear_the_comment_stack() {
        let doc = map(vec![c(" sops:enc"), e("n", Value::Null), e("a", s("1"))]);
        assert_eq!(
            sel(Rule::EncryptedCommentRegex("sops:enc".into()), &doc),
            vec![false, false]
        );
    }

    #[test]
    fn mac_leaves_follow_mac_only_encrypted() {
        let doc = map(vec![e("a", s("1")), e("b_unencrypted", s("2")), c(" c")]);
        let all = Selector::new(&Rule::None, false).unwrap();
        assert_eq!(
            all.mac_leaves(std::slice::from_ref(&doc)),
            vec![true, true, false]
        );
        let only = Selector::new(&Rule::None, true).unwrap();
        assert_eq!(
            only.mac_leaves(std::slice::from_ref(&doc)),
            vec![true, false, false]
        );
    }

    #[test]
    fn invalid_regex_is_an_error_with_a_hint() {
        let err = Selector::new(&Rule::EncryptedRegex("^(data".into()), false).unwrap_err();
        assert!(
            err.message
                .starts_with("invalid encrypted_regex regular expression"),
            "{}",
            err.message
        );
        assert!(err.hint.is_some());
        // Perl look-around is not RE2.
        assert!(Selector::new(&Rule::UnencryptedRegex("(?=x)".into()), false).is_err());
    }

    #[test]
    fn sealed_comment_matching_unencrypted_comment_regex_fails() {
        let s = Selector::new(&Rule::UnencryptedCommentRegex("AES".into()), false).unwrap();
        let err = s
            .check_sealed_comment("ENC[AES256_GCM,data:x,type:comment]", &["a".into()])
            .unwrap_err();
        assert_eq!(err.code, Code::ErrorEncryptingTree);
        assert!(err.message.contains("at a"));
        assert!(s.check_sealed_comment("ENC[XCHACHA,data:x]", &[]).is_ok());
        let other = Selector::new(&Rule::None, false).unwrap();
        assert!(other.check_sealed_comment("ENC[AES256_GCM]", &[]).is_ok());
    }

    #[test]
    fn leaf_count_matches_walk_leaves() {
        let doc = map(vec![
            c(" a"),
            e(
                "l",
                Value::List(vec![
                    lc(" b"),
                    Value::Null,
                    s("x"),
                    map(vec![c(" c"), e("k", s(""))]),
                ]),
            ),
            e("n", Value::Null),
        ]);
        let mut n = 0;
        crate::tree::walk_leaves(std::slice::from_ref(&doc), |_, _, _| n += 1);
        assert_eq!(sel(Rule::None, &doc).len(), n);
    }
}
