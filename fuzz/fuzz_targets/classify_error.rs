//! libFuzzer entry point of [`alter_fuzz::classify_error`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alter_fuzz::classify_error(data));
