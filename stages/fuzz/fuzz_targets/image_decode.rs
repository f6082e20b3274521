//! Any bytes given to the plate stage's photo decoder (JPEG, PNG, WebP, EXIF orientation):
//! an image or an error, never a panic, a hang or an allocation above the decode limits
//! (a header declaring 60,000 x 60,000 pixels must be refused from the header).
#![no_main]

use haul_stages::plate::{DecodeLimits, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode(data, &DecodeLimits::default());
});
