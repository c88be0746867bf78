//! libFuzzer entry point of [`alter_fuzz::parse_response`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alter_fuzz::parse_response(data));
