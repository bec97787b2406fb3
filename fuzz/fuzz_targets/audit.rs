//! Fuzz target `audit`: see `accord_fuzz::protocol_checks::audit`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::protocol_checks::audit(data));
