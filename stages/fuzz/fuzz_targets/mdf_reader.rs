//! Any bytes given to the MDF reader: an error or a summary, never a panic, a hang or a
//! huge allocation (libFuzzer's -rss_limit_mb and -malloc_limit_mb enforce the last).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = haul_stages::mdf::summarize(std::io::Cursor::new(data), None);
});
