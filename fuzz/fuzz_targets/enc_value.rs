//! The ENC[] parser must never panic, and whatever it accepts must print back to a token that
//! parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veil::crypto::value::EncValue;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = EncValue::parse(s) {
            let again = EncValue::parse(&v.to_string()).expect("printed token must parse");
            assert_eq!(again, v);
        }
    }
});
