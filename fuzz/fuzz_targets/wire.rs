//! Fuzz target `wire`: see `accord_fuzz::protocol_checks::wire`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::protocol_checks::wire(data));
