//! libFuzzer entry point of [`alter_fuzz::base64_body`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alter_fuzz::base64_body(data));
