//! `stores` settings of `.sops.yaml`: the indentation sops's stores use when veil writes a new
//! layout, checked as sops checks them. Lossless edits keep a file's own indentation.

use super::*;
use crate::error::Result;
use crate::format::{EmitOptions, Format};

/// `stores` settings: indentation for freshly laid-out output (docs/sops-format.md §5.2). Lossless edits keep a
/// file's own indentation; these apply when veil writes a new layout (e.g. a conversion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoresConfig {
    /// `stores.yaml.indent`: 0 means sops's default of 4.
    pub yaml_indent: i64,
    /// `stores.json.indent`: -1 means a tab.
    pub json_indent: i64,
    /// `stores.json_binary.indent`: -1 means a tab.
    pub json_binary_indent: i64,
}

impl Default for StoresConfig {
    fn default() -> StoresConfig {
        StoresConfig {
            yaml_indent: 0,
            json_indent: -1,
            json_binary_indent: -1,
        }
    }
}

impl StoresConfig {
    /// Check the values as sops's stores do when they write.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, msg: &str| {
            Err(config_error(format!("invalid {what}: {msg}"))
                .hint("use a non-negative number of spaces (JSON also takes -1 for a tab)"))
        };
        if self.yaml_indent < 0 {
            return bad("YAML indent", "YAML Negative indentation not accepted");
        }
        if self.json_indent < -1 {
            return bad(
                "JSON indent",
                "JSON Indentation parameter smaller than -1 is not accepted",
            );
        }
        if self.json_binary_indent < -1 {
            return bad(
                "JSON indent",
                "JSON Indentation parameter smaller than -1 is not accepted",
            );
        }
        Ok(())
    }

    /// `--indent N` overrides every store's indent (where sops sees the flag).
    pub fn with_indent(self, indent: i64) -> Result<StoresConfig> {
        let s = StoresConfig {
            yaml_indent: indent,
            json_indent: indent,
            json_binary_indent: indent,
        };
        s.validate()?;
        Ok(s)
    }

    /// The emit options for a store of `format`.
    pub fn emit_options(&self, format: Format) -> EmitOptions {
        let json = |i: i64| if i < 0 { None } else { Some(i as usize) };
        let indent = match format {
            Format::Yaml if self.yaml_indent > 0 => Some(self.yaml_indent as usize),
            Format::Yaml => None,
            Format::Json => json(self.json_indent),
            Format::Binary => json(self.json_binary_indent),
            _ => None,
        };
        EmitOptions { indent }
    }
}
