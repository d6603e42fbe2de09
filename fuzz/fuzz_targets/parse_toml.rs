//! The toml store against arbitrary input: see `common::check_lossless`.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::check_lossless(veil::format::Format::Toml, data));
