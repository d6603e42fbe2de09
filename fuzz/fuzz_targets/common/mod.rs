//! What every `parse_*` target checks: the store never panics on any input, and rendering a
//! parsed plaintext file with no edits gives back the input byte for byte (the lossless
//! guarantee). The one allowed change: a text file that does not end with a line break gets
//! one, as sops writes its output — and where that break would change the last value (a YAML
//! block scalar at the end of the file: its chomping indicator, or blank-only lines after it),
//! the value's notation changes with it, so the output must read back as the same tree.
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
        assert!(
            format != Format::Binary
                && !ends_with_break
                && (out.ends_with(b"\n") || out.ends_with(b"\r")),
            "render with no edits must be lossless (a final line break the only addition)\n\
             in:  {data:?}\nout: {out:?}"
        );
        if out.strip_prefix(data).is_some_and(|added| added == b"\n" || added == b"\r\n") {
            continue;
        }
        let back = store.parse(&out).expect("the rendered file must parse");
        assert!(
            back.docs() == parsed.docs(),
            "a render that changed more than the final line break must keep the tree\n\
             in:  {data:?}\nout: {out:?}"
        );
    }
}
