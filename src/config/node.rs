//! A small YAML node model over saphyr that keeps each scalar's source text and whether it was
//! quoted, so `.sops.yaml` values are read as Go's yaml.v3 reads them (merge keys, `yes`/`on`
//! booleans, hex integers). It knows nothing of sops's keys or rules.

use saphyr::{ScalarOwned, YamlOwned};
use saphyr_parser::ScalarStyle;

#[derive(Clone, Debug)]
pub(crate) enum Node {
    Scalar { text: String, quoted: bool },
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

pub(super) const MAX_NESTING: usize = 64;

impl Node {
    pub(super) fn from_yaml(y: &YamlOwned, depth: usize) -> std::result::Result<Node, String> {
        if depth > MAX_NESTING {
            return Err("the document is nested too deeply".into());
        }
        Ok(match y {
            YamlOwned::Representation(text, style, tag) => Node::Scalar {
                text: text.clone(),
                quoted: !matches!(style, ScalarStyle::Plain)
                    || tag.as_ref().is_some_and(|t| t.suffix == "str"),
            },
            YamlOwned::Value(s) => match s {
                ScalarOwned::Null => Node::Scalar {
                    text: String::new(),
                    quoted: false,
                },
                ScalarOwned::Boolean(b) => Node::Scalar {
                    text: b.to_string(),
                    quoted: false,
                },
                ScalarOwned::Integer(i) => Node::Scalar {
                    text: i.to_string(),
                    quoted: false,
                },
                ScalarOwned::FloatingPoint(f) => Node::Scalar {
                    text: f.to_string(),
                    quoted: false,
                },
                ScalarOwned::String(s) => Node::Scalar {
                    text: s.clone(),
                    quoted: true,
                },
            },
            YamlOwned::Sequence(items) => Node::List(
                items
                    .iter()
                    .map(|i| Node::from_yaml(i, depth + 1))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            YamlOwned::Mapping(m) => {
                let mut items: Vec<(String, Node)> = Vec::new();
                let mut merges = Vec::new();
                for (k, v) in m {
                    let Node::Scalar { text: key, quoted } = Node::from_yaml(k, depth + 1)? else {
                        return Err("a mapping key is not a scalar".into());
                    };
                    let v = Node::from_yaml(v, depth + 1)?;
                    if key == "<<" && !quoted {
                        merges.push(v);
                    } else {
                        items.push((key, v));
                    }
                }
                // YAML merge keys (`<<: *anchor`, applied by Go's yaml.v3): the mapping's own keys
                // win, then earlier merged maps over later ones.
                for m in merges {
                    let maps = match m {
                        Node::List(l) => l,
                        other => vec![other],
                    };
                    for mm in maps {
                        let Node::Map(extra) = mm else {
                            return Err("a merge key (<<) must name a mapping".into());
                        };
                        for (k, v) in extra {
                            if !items.iter().any(|(ik, _)| *ik == k) {
                                items.push((k, v));
                            }
                        }
                    }
                }
                Node::Map(items)
            }
            YamlOwned::Tagged(tag, inner) => match Node::from_yaml(inner, depth + 1)? {
                Node::Scalar { text, quoted } => Node::Scalar {
                    text,
                    quoted: quoted || tag.suffix == "str",
                },
                other => other,
            },
            YamlOwned::Alias(_) => return Err("an alias names an unknown anchor".into()),
            YamlOwned::BadValue => return Err("a value could not be read".into()),
        })
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(items) => items
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .filter(|v| !v.is_null()),
            _ => None,
        }
    }

    /// A scalar's text (`None` for null or a collection).
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Scalar { .. } if self.is_null() => "null",
            Node::Scalar { .. } => "a scalar",
            Node::List(_) => "a list",
            Node::Map(_) => "a map",
        }
    }
}

pub(crate) fn parse_int(node: &Node) -> Option<i64> {
    let Node::Scalar {
        text,
        quoted: false,
    } = node
    else {
        return None;
    };
    let t = text.replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

pub(crate) fn parse_bool(node: &Node) -> Option<bool> {
    let Node::Scalar {
        text,
        quoted: false,
    } = node
    else {
        return None;
    };
    match text.as_str() {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            Some(false)
        }
        _ => None,
    }
}
