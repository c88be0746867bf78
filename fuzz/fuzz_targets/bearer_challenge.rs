//! libFuzzer entry point of [`alter_fuzz::bearer_challenge`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| alter_fuzz::bearer_challenge(data));
