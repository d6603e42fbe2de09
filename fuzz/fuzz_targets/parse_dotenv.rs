//! The dotenv store must never panic on any input, and rendering a parsed file with no edits must
//! give back the input byte for byte (the lossless guarantee).
#![no_main]
use libfuzzer_sys::fuzz_target;
use veil::format::{Edit, Format};

fuzz_target!(|data: &[u8]| {
    let store = Format::Dotenv.store();
    for parsed in [store.parse(data), store.parse_encrypted(data)].into_iter().flatten() {
        let mut n = 0;
        veil::tree::walk_leaves(parsed.docs(), |_, _, _| n += 1);
        let keep = vec![Edit::Keep; n];
        if parsed.metadata().is_none() && Format::Dotenv != Format::Binary {
            if let Ok(out) = parsed.render(&keep, None) {
                assert_eq!(out, data, "render with no edits must be lossless");
            }
        }
    }
});
