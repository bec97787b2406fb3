//! Fuzz target `envelope`: see `accord_fuzz::protocol_checks::envelope`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::protocol_checks::envelope(data));
