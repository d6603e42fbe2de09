//! Layout options for fresh output (a format conversion, keys added to a file whose format
//! cannot be edited in place): `--indent` wins, then (where the caller asks for it) the file's
//! own indentation, then `.sops.yaml` `stores`, then sops's defaults.
//!
//! They are worked out here and nowhere else. A `.sops.yaml` that cannot be read, or an
//! `--indent` the store refuses, is kept as an error and surfaces when a fresh layout is
//! actually written (as sops fails to dump then), never replaced by defaults in silence.
//! Writing a file on its own text needs no layout and never fails here.

use crate::config::StoresConfig;
use crate::error::Result;
use crate::format::{EmitOptions, Format};

/// Where a fresh layout's options come from, resolved only when one is written.
#[derive(Clone, Debug)]
pub struct LayoutOptions {
    /// `.sops.yaml` `stores` (defaults without a config), or why the config could not be read.
    stores: Result<StoresConfig>,
    /// `--indent`.
    indent: Option<i64>,
}

impl Default for LayoutOptions {
    fn default() -> LayoutOptions {
        LayoutOptions {
            stores: Ok(StoresConfig::default()),
            indent: None,
        }
    }
}

impl LayoutOptions {
    /// From the result of loading `.sops.yaml` (its `stores`, `None` without a config) and
    /// `--indent`.
    pub fn new(stores: Result<Option<StoresConfig>>, indent: Option<i64>) -> LayoutOptions {
        LayoutOptions {
            stores: stores.map(Option::unwrap_or_default),
            indent,
        }
    }

    /// Whether `--indent` was given.
    pub fn explicit(&self) -> bool {
        self.indent.is_some()
    }

    /// The options for a fresh layout of `outf`: `--indent` over `.sops.yaml` `stores`.
    pub fn fresh(&self, outf: Format) -> Result<EmitOptions> {
        let stores = self.stores.clone()?;
        let stores = match self.indent {
            Some(n) => stores.with_indent(n)?,
            None => stores,
        };
        Ok(stores.emit_options(outf))
    }

    /// The options for a fresh layout of a file whose text is `src` in `format`, written as
    /// `outf`: `--indent`, else the file's own indentation (same format only), else [`fresh`].
    ///
    /// [`fresh`]: LayoutOptions::fresh
    pub fn like(&self, src: &[u8], format: Format, outf: Format) -> Result<EmitOptions> {
        if !self.explicit() && format == outf {
            if let Some(e) = infer_indent(src, format) {
                return Ok(e);
            }
        }
        self.fresh(outf)
    }
}

/// The indentation a file uses, so that a fresh layout of it looks like it: YAML's indent of
/// the first nested line, JSON's unit (tab → `None`). `None` for YAML/JSON means "unknown".
pub fn infer_indent(src: &[u8], format: Format) -> Option<EmitOptions> {
    let text = std::str::from_utf8(src).ok()?;
    let mut prev_opens = false;
    for line in text.lines() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = &line[..line.len() - trimmed.len()];
        match format {
            Format::Json if !lead.is_empty() => {
                return Some(EmitOptions {
                    indent: if lead.starts_with('\t') {
                        None
                    } else {
                        Some(lead.len())
                    },
                });
            }
            Format::Yaml if prev_opens && !lead.is_empty() && !lead.contains('\t') => {
                return Some(EmitOptions {
                    indent: Some(lead.len()),
                });
            }
            _ => {}
        }
        prev_opens = trimmed.trim_end().ends_with(':');
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn indentation_is_inferred() {
        let y = b"# c\na:\n   b: 1\n";
        assert_eq!(infer_indent(y, Format::Yaml).unwrap().indent, Some(3));
        let y = b"a: 1\nl:\n  - x\n";
        assert_eq!(infer_indent(y, Format::Yaml).unwrap().indent, Some(2));
        assert!(infer_indent(b"a: 1\n", Format::Yaml).is_none());
        let j = b"{\n\t\"a\": 1\n}\n";
        assert_eq!(infer_indent(j, Format::Json).unwrap().indent, None);
        let j = b"{\n  \"a\": 1\n}\n";
        assert_eq!(infer_indent(j, Format::Json).unwrap().indent, Some(2));
        assert!(infer_indent(b"{\"a\": 1}", Format::Json).is_none());
    }

    #[test]
    fn indent_flag_wins_over_the_file_and_the_config() {
        let conf = StoresConfig::default().with_indent(6).ok();
        let l = LayoutOptions::new(Ok(conf), None);
        let src = b"a:\n  b: 1\n";
        assert_eq!(
            l.like(src, Format::Yaml, Format::Yaml).unwrap().indent,
            Some(2)
        );
        assert_eq!(l.fresh(Format::Yaml).unwrap().indent, Some(6));
        let l = LayoutOptions::new(Ok(conf), Some(3));
        assert_eq!(
            l.like(src, Format::Yaml, Format::Yaml).unwrap().indent,
            Some(3)
        );
    }

    #[test]
    fn a_config_error_surfaces_only_when_a_fresh_layout_is_written() {
        let l = LayoutOptions::new(Err(Error::generic("bad stores")), None);
        assert_eq!(l.fresh(Format::Json).unwrap_err().message, "bad stores");
        // The file's own indentation needs no config.
        let got = l.like(b"a:\n  b: 1\n", Format::Yaml, Format::Yaml).unwrap();
        assert_eq!(got.indent, Some(2));
        let l = LayoutOptions::new(Ok(None), Some(-2));
        assert!(
            l.fresh(Format::Yaml).is_err(),
            "a negative --indent is refused"
        );
    }
}
