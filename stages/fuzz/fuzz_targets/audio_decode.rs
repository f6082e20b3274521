//! Any bytes given to the heart-sound decoder as a WAV, FLAC, MP3 or Ogg file: a decoded
//! signal or an error, never a panic, a hang or a huge allocation (libFuzzer's
//! -rss_limit_mb and -malloc_limit_mb enforce the last: a header declaring a 4 GHz sample
//! rate or days of audio must be refused before it allocates).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the format hint, as a file's extension would.
    let Some((&pick, bytes)) = data.split_first() else { return };
    let name = ["a.wav", "a.flac", "a.mp3", "a.ogg"][usize::from(pick % 4)];
    let _ = haul_stages::heart_sound::decode_bytes(name, bytes.to_vec(), 1000);
});
