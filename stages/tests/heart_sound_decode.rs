//! Decoding: every WAV sample format, FLAC, MP3 and Ogg Vorbis, channel mixing, and the
//! errors a bad file gives. The FLAC, MP3 and Vorbis files are committed fixtures
//! (`tests/fixtures/audio`, made by the Debian tools `flac`, `lame` and `oggenc`), so the
//! tests need no encoder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod heart_common;

use haul_pipeline::ErrorClass;
use haul_stages::heart_sound::{HeartSoundError, decode_file};
use heart_common::{WavFormat, file, tone, write_wav};

#[test]
fn wav_of_every_sample_format_decodes_to_its_duration() {
    let dir = tempfile::tempdir().unwrap();
    for (format, rate) in [
        (WavFormat::U8, 8000),
        (WavFormat::I16, 4000),
        (WavFormat::I24, 44100),
        (WavFormat::I32, 22050),
        (WavFormat::F32, 48000),
    ] {
        let path = file(&dir, &format!("{format:?}.wav"));
        write_wav(&path, &[tone(2.5, rate, 100.0, 0.5)], rate, format);
        let d = decode_file(&path, 1000).unwrap();
        assert!(
            (d.info.duration_s - 2.5).abs() < 1e-3,
            "{format:?}: {}",
            d.info.duration_s
        );
        assert_eq!(d.samples.len(), 2500, "{format:?}");
        assert_eq!(d.info.sample_rate_hz, rate);
        assert!(d.info.container.starts_with("wav"), "{}", d.info.container);
        // The 100 Hz tone survives decoding and resampling at the right level.
        let rms = (d.samples[500..2000].iter().map(|v| v * v).sum::<f32>() / 1500.0).sqrt();
        assert!((rms - 0.3536).abs() < 0.01, "{format:?}: rms {rms}");
    }
}

#[test]
fn channels_are_mixed_to_mono() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "stereo.wav");
    let left = tone(1.0, 8000, 100.0, 0.5);
    let right: Vec<f32> = left.iter().map(|v| -v).collect();
    let silent = vec![0.0; left.len()];
    write_wav(
        &path,
        &[left.clone(), right, silent.clone(), silent],
        8000,
        WavFormat::I16,
    );
    let d = decode_file(&path, 1000).unwrap();
    assert_eq!(d.info.channels, 4);
    assert!(d.samples.iter().all(|v| v.abs() < 1e-3), "opposite channels cancel");
    write_wav(&path, &[left.clone(), left], 8000, WavFormat::I16);
    let d = decode_file(&path, 1000).unwrap();
    let peak = d.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((peak - 0.5).abs() < 0.02, "{peak}");
}

/// A committed fixture (`tests/fixtures/audio`, made by its `make_fixtures.sh`).
fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/audio")
        .join(name)
}

#[test]
fn flac_mp3_and_ogg_vorbis_decode_to_their_duration() {
    for (name, container, codec) in [
        ("tone.flac", "flac", "flac"),
        ("tone.mp3", "mp3", "mp3"),
        ("tone.ogg", "ogg", "vorbis"),
    ] {
        let d = decode_file(&fixture(name), 1000).unwrap();
        // Lossy encoders add up to a couple of frames of delay and padding.
        assert!(
            (d.info.duration_s - 1.0).abs() < 0.06,
            "{container}: {}",
            d.info.duration_s
        );
        assert!(d.info.container.contains(container), "{}", d.info.container);
        assert!(d.info.codec.contains(codec), "{}", d.info.codec);
        assert_eq!(d.info.sample_rate_hz, 11025);
    }
}

/// The error of a decode that must fail (without printing the decoded samples otherwise).
fn failure(path: &std::path::Path) -> HeartSoundError {
    match decode_file(path, 1000) {
        Ok(d) => panic!("{} decoded fine: {:?}", path.display(), d.info),
        Err(e) => e,
    }
}

fn assert_permanent(err: HeartSoundError, words: &[&str]) {
    assert!(err.is_permanent(), "{err}");
    let text = err.to_string().to_lowercase();
    assert!(
        words.iter().any(|w| text.contains(w)),
        "`{text}` names none of {words:?}"
    );
}

#[test]
fn empty_file_is_a_permanent_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "empty.wav");
    std::fs::write(&path, b"").unwrap();
    let err = failure(&path);
    assert!(matches!(err, HeartSoundError::Empty { .. }));
    assert_permanent(err, &["empty"]);
}

#[test]
fn garbage_is_a_permanent_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "noise.wav");
    let bytes: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).unwrap();
    assert_permanent(failure(&path), &["unsupported", "corrupt", "not a recognised"]);
}

#[test]
fn truncated_wav_is_a_permanent_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "cut.wav");
    write_wav(&path, &[tone(2.0, 8000, 100.0, 0.5)], 8000, WavFormat::I16);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2 + 1]).unwrap();
    assert_permanent(failure(&path), &["truncated"]);
}

#[test]
fn corrupt_flac_is_a_permanent_error() {
    assert_permanent(
        failure(&fixture("corrupt.flac")),
        &["corrupt", "malformed", "truncated"],
    );
}

#[test]
fn unreadable_path_is_a_retryable_error() {
    let err = failure(std::path::Path::new("/nonexistent/dir/x.wav"));
    assert!(!err.is_permanent(), "{err}");
}

/// A RIFF/WAVE header with these fields and `data_len` declared, followed by `payload`.
fn wav_header(rate: u32, channels: u16, data_len: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.wrapping_mul(2 * u32::from(channels)).to_le_bytes());
    out.extend_from_slice(&(2 * channels).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Issue 11, item 3: a 1 KB WAV declaring a 4,294,967,295 Hz sample rate grew past 1 GB and
/// never finished; absurd headers are now refused at once as permanent errors.
#[test]
fn decoder_bombs_are_refused_from_their_header() {
    let dir = tempfile::tempdir().unwrap();
    let payload = vec![0u8; 1000];
    for (name, bytes, words) in [
        ("rate.wav", wav_header(u32::MAX, 1, 1000, &payload), "4294967295"),
        (
            "hours.wav",
            wav_header(1000, 1, u32::MAX - 64, &payload),
            "above the limit",
        ),
    ] {
        let path = file(&dir, name);
        std::fs::write(&path, bytes).unwrap();
        let err = failure(&path);
        assert!(err.is_permanent(), "{name}: {err}");
        assert!(err.to_string().contains(words), "{name}: {err}");
    }
}
