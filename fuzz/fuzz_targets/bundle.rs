//! Fuzz target `bundle`: see `accord_fuzz::node_checks::bundle`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| accord_fuzz::node_checks::bundle(data));
