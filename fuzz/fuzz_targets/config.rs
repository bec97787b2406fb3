//! Fuzz target `config`: see `accord_fuzz::config_checks::config`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::config_checks::config(data));
