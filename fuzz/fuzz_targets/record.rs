//! Fuzz target `record`: see `accord_fuzz::protocol_checks::record`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::protocol_checks::record(data));
