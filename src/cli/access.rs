//! `veil access [PATH…]`: the access and rotation report (`crate::policy::access`). This file
//! reads the flags, loads `.sops.yaml` and its policy, and prints the table, the per-recipient
//! view or the JSON document. Exit 0 without findings, [`crate::policy::EXIT_FINDINGS`] (10)
//! with some, sops's codes on errors. No key is read and nothing is decrypted.

use super::args::AccessArgs;
use crate::error::Result;
use crate::policy::{self, access, Policy};

pub fn run(a: &AccessArgs) -> Result<i32> {
    let now = match &a.as_of {
        Some(t) => policy::parse_user_time(t)?,
        None => {
            let now = time::OffsetDateTime::now_utc();
            now.replace_nanosecond(0).unwrap_or(now)
        }
    };
    let cwd = std::env::current_dir()?;
    let (conf, warning) = crate::config::load_config(super::explicit_config().as_deref(), &cwd)?;
    if let Some(w) = warning {
        eprintln!("{w}");
    }
    let pol = match &conf {
        Some(c) => Policy::from_config(c)?,
        None => Policy::default(),
    };
    let report = access::analyse(&access::Request {
        config: conf.as_ref(),
        policy: &pol,
        paths: &a.paths,
        now,
        cwd: &cwd,
    })?;
    let out = if a.json {
        policy::render_json(&report, &cwd)?
    } else if a.by_recipient {
        policy::render_by_recipient(&report)
    } else {
        policy::render_table(&report)
    };
    super::io::write_stdout(out.as_bytes())?;
    Ok(if report.finding_count() > 0 {
        policy::EXIT_FINDINGS
    } else {
        0
    })
}
