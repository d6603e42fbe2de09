//! The pure 3-way merge behind `veil git merge-driver`: base, ours and theirs are decrypted
//! trees, merged by key path as data, not as text. A key changed on one side takes that side;
//! a key added or removed on one side follows that side; a key changed differently on both
//! sides is a conflict, reported by its path. Key groups (recipients) merge the same way.
//!
//! It exists so that the merge rule is one small, testable function with no I/O and no crypto.
//! It must never put a value into a conflict report: conflicts are key paths only.

use crate::tree::{Item, Value};

/// The result of a merge: the merged documents (ours where a conflict was found) and the
/// conflicting key paths, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    pub docs: Vec<Value>,
    pub conflicts: Vec<String>,
    /// The same conflicts as (document index, key path); `None` for the list of documents.
    pub conflict_paths: Vec<Option<(usize, Vec<String>)>>,
}

/// sops's path notation: `["a"]["b"]`; the whole document is `[]`.
pub fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        return "(the whole document)".to_string();
    }
    path.iter()
        .map(|p| format!("[{}]", serde_json::Value::String(p.clone())))
        .collect()
}

/// Merge three document lists. Documents merge pairwise when the three lists have the same
/// length; otherwise the list is one value.
pub fn merge_docs(base: &[Value], ours: &[Value], theirs: &[Value]) -> Merge {
    let mut conflicts = Vec::new();
    let mut conflict_paths = Vec::new();
    let docs = if base.len() == ours.len() && ours.len() == theirs.len() {
        base.iter()
            .zip(ours)
            .zip(theirs)
            .enumerate()
            .map(|(i, ((b, o), t))| {
                let mut path = Vec::new();
                let mut found = Vec::new();
                let v = merge_value(&mut path, Some(b), Some(o), Some(t), &mut found)
                    .unwrap_or(Value::Null);
                for p in found {
                    conflicts.push(display_path(&p));
                    conflict_paths.push(Some((i, p)));
                }
                v
            })
            .collect()
    } else if ours == theirs || base == theirs {
        ours.to_vec()
    } else if base == ours {
        theirs.to_vec()
    } else {
        conflicts.push("(the list of documents)".to_string());
        conflict_paths.push(None);
        ours.to_vec()
    };
    Merge {
        docs,
        conflicts,
        conflict_paths,
    }
}

fn merge_value(
    path: &mut Vec<String>,
    b: Option<&Value>,
    o: Option<&Value>,
    t: Option<&Value>,
    conflicts: &mut Vec<Vec<String>>,
) -> Option<Value> {
    if o == t || t == b {
        return o.cloned();
    }
    if o == b {
        return t.cloned();
    }
    let empty = Value::Map(Vec::new());
    match (b.unwrap_or(&empty), o, t) {
        (Value::Map(bi), Some(Value::Map(oi)), Some(Value::Map(ti))) => {
            Some(Value::Map(merge_maps(path, bi, oi, ti, conflicts)))
        }
        _ => {
            conflicts.push(path.clone());
            o.cloned()
        }
    }
}

fn get<'a>(items: &'a [Item], key: &str) -> Option<&'a Value> {
    items.iter().find_map(|i| match i {
        Item::Entry(k, v) if k == key => Some(v),
        _ => None,
    })
}

fn merge_maps(
    path: &mut Vec<String>,
    b: &[Item],
    o: &[Item],
    t: &[Item],
    conflicts: &mut Vec<Vec<String>>,
) -> Vec<Item> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for it in o {
        match it {
            Item::Comment(_) => out.push(it.clone()),
            Item::Entry(k, ov) => {
                if seen.contains(&k.as_str()) {
                    // A duplicate key: sops reads the first; keep the rest as they are.
                    out.push(it.clone());
                    continue;
                }
                seen.push(k);
                path.push(k.clone());
                if let Some(v) = merge_value(path, get(b, k), Some(ov), get(t, k), conflicts) {
                    out.push(Item::Entry(k.clone(), v));
                }
                path.pop();
            }
        }
    }
    for it in t {
        if let Item::Entry(k, tv) = it {
            if seen.contains(&k.as_str()) {
                continue;
            }
            seen.push(k);
            path.push(k.clone());
            if let Some(v) = merge_value(path, get(b, k), None, Some(tv), conflicts) {
                out.push(Item::Entry(k.clone(), v));
            }
            path.pop();
        }
    }
    out
}

/// The value at `path` in document `doc` (the first entry of a duplicated key), if any.
pub fn lookup<'a>(docs: &'a [Value], doc: usize, path: &[String]) -> Option<&'a Value> {
    let mut v = docs.get(doc)?;
    for k in path {
        v = v.get(k)?;
    }
    Some(v)
}

/// Merge one set-like list (a key group's recipients): ours, plus what theirs added, minus
/// what theirs removed.
pub fn merge_set<T: PartialEq + Clone>(base: &[T], ours: &[T], theirs: &[T]) -> Vec<T> {
    let mut out: Vec<T> = ours
        .iter()
        .filter(|x| !base.contains(x) || theirs.contains(x))
        .cloned()
        .collect();
    for x in theirs {
        if !base.contains(x) && !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// Merge key groups: group by group when the three have the same number of groups; otherwise
/// a change on one side wins and changes on both sides are a conflict (`None`).
pub fn merge_groups<T: PartialEq + Clone>(
    base: &[Vec<T>],
    ours: &[Vec<T>],
    theirs: &[Vec<T>],
) -> Option<Vec<Vec<T>>> {
    if ours == theirs || theirs == base {
        return Some(ours.to_vec());
    }
    if ours == base {
        return Some(theirs.to_vec());
    }
    if base.len() == ours.len() && ours.len() == theirs.len() {
        return Some(
            base.iter()
                .zip(ours)
                .zip(theirs)
                .map(|((b, o), t)| merge_set(b, o, t))
                .collect(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Scalar;

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| Item::Entry(k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn different_keys_merge_cleanly() {
        let b = map(&[("a", s("1")), ("b", s("1")), ("n", map(&[("x", s("1"))]))]);
        let o = map(&[("a", s("2")), ("b", s("1")), ("n", map(&[("x", s("1"))]))]);
        let t = map(&[("a", s("1")), ("b", s("3")), ("n", map(&[("x", s("4"))]))]);
        let m = merge_docs(&[b], &[o], &[t]);
        assert!(m.conflicts.is_empty());
        assert_eq!(
            m.docs,
            vec![map(&[
                ("a", s("2")),
                ("b", s("3")),
                ("n", map(&[("x", s("4"))]))
            ])]
        );
    }

    #[test]
    fn additions_and_removals_follow_their_side() {
        let b = map(&[("a", s("1")), ("gone", s("1"))]);
        let o = map(&[("a", s("1")), ("gone", s("1")), ("mine", s("m"))]);
        let t = map(&[("a", s("1")), ("theirs", s("t"))]);
        let m = merge_docs(&[b], &[o], &[t]);
        assert!(m.conflicts.is_empty());
        assert_eq!(
            m.docs,
            vec![map(&[("a", s("1")), ("mine", s("m")), ("theirs", s("t"))])]
        );
    }

    #[test]
    fn both_changed_is_a_conflict_with_the_path_only() {
        let b = map(&[("db", map(&[("pw", s("old"))]))]);
        let o = map(&[("db", map(&[("pw", s("ours-secret"))]))]);
        let t = map(&[("db", map(&[("pw", s("theirs-secret"))]))]);
        let m = merge_docs(&[b], std::slice::from_ref(&o), &[t]);
        assert_eq!(m.conflicts, vec![r#"["db"]["pw"]"#.to_string()]);
        assert_eq!(
            m.conflict_paths,
            vec![Some((0, vec!["db".to_string(), "pw".to_string()]))]
        );
        assert_eq!(
            lookup(&m.docs, 0, &["db".into(), "pw".into()]),
            Some(&s("ours-secret"))
        );
        assert_eq!(m.docs, vec![o]);
        assert!(!m.conflicts[0].contains("secret"));
    }

    #[test]
    fn same_change_on_both_sides_is_clean() {
        let b = map(&[("a", Value::Scalar(Scalar::Int(1)))]);
        let o = map(&[("a", Value::Scalar(Scalar::Int(2)))]);
        let m = merge_docs(&[b], std::slice::from_ref(&o), std::slice::from_ref(&o));
        assert!(m.conflicts.is_empty());
        assert_eq!(m.docs, vec![o]);
    }

    #[test]
    fn delete_versus_change_conflicts() {
        let b = map(&[("a", s("1"))]);
        let o = map(&[]);
        let t = map(&[("a", s("2"))]);
        let m = merge_docs(&[b], &[o], &[t]);
        assert_eq!(m.conflicts, vec![r#"["a"]"#.to_string()]);
    }

    #[test]
    fn recipients_merge_as_sets() {
        let b = vec![vec!["k1", "k2"]];
        let o = vec![vec!["k1", "k2", "k3"]];
        let t = vec![vec!["k1", "k4"]];
        assert_eq!(merge_groups(&b, &o, &t), Some(vec![vec!["k1", "k3", "k4"]]));
        assert_eq!(merge_groups(&b, &b, &t), Some(t.clone()));
        let two = vec![vec!["k1"], vec!["k9"]];
        assert_eq!(merge_groups(&b, &o, &two), None);
    }
}
