//! Fuzz target `frame`: see `accord_fuzz::node_checks::frame`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::node_checks::frame(data));
