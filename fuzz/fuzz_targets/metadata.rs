//! The metadata block is untrusted input: reading it from any YAML or JSON must never panic,
//! and what it writes must read back to the same block.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veil::format::Format;
use veil::metadata::Metadata;

fuzz_target!(|data: &[u8]| {
    for f in [Format::Yaml, Format::Json] {
        if let Ok(p) = f.store().parse_encrypted(data) {
            if let Some(t) = p.metadata() {
                if let Ok(m) = Metadata::from_tree(t) {
                    let tree = m.to_tree(f == Format::Json);
                    let back = Metadata::from_tree(&tree).expect("round trip");
                    assert_eq!(back.to_tree(f == Format::Json), tree);
                }
            }
        }
    }
});
