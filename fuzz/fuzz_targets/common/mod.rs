//! What every `parse_*` target checks: the store never panics on any input, and rendering a
//! parsed plaintext file with no edits gives back the input byte for byte (the lossless
//! guarantee). The one allowed change: a text file that does not end with a line break gets
//! one, as sops writes its output.
use veil::format::{Edit, Format};

pub fn check_lossless(format: Format, data: &[u8]) {
    let store = format.store();
    for parsed in [store.parse(data), store.parse_encrypted(data)].into_iter().flatten() {
        let mut n = 0;
        veil::tree::walk_leaves(parsed.docs(), |_, _, _| n += 1);
        let keep = vec![Edit::Keep; n];
        if parsed.metadata().is_some() {
            continue;
        }
        let Ok(out) = parsed.render(&keep, None) else { continue };
        if out == data {
            continue;
        }
        let ends_with_break = data.ends_with(b"\n") || data.ends_with(b"\r");
        let added = out.strip_prefix(data);
        assert!(
            format != Format::Binary
                && !ends_with_break
                && matches!(added, Some(b"\n") | Some(b"\r\n")),
            "render with no edits must be lossless (a final line break the only addition)\n\
             in:  {data:?}\nout: {out:?}"
        );
    }
}
