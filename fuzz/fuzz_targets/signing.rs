//! libFuzzer entry point of [`alter_fuzz::signing`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alter_fuzz::signing(data));
