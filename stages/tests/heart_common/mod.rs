//! Helpers shared by the integration tests: a WAV writer and test signals.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Sample encodings a WAV file can carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WavFormat {
    /// Unsigned 8-bit PCM.
    U8,
    /// Signed 16-bit PCM.
    I16,
    /// Signed 24-bit PCM.
    I24,
    /// Signed 32-bit PCM.
    I32,
    /// 32-bit IEEE float.
    F32,
}

/// Write interleaved `frames` (one `Vec` per frame) in [-1, 1] as a WAV file.
pub fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32, format: WavFormat) {
    let n = channels[0].len();
    let (bits, tag): (u16, u16) = match format {
        WavFormat::U8 => (8, 1),
        WavFormat::I16 => (16, 1),
        WavFormat::I24 => (24, 1),
        WavFormat::I32 => (32, 1),
        WavFormat::F32 => (32, 3),
    };
    let ch = channels.len() as u16;
    let block = ch * bits / 8;
    let mut data = Vec::with_capacity(n * block as usize);
    for i in 0..n {
        for c in channels {
            let v = c[i].clamp(-1.0, 1.0);
            match format {
                WavFormat::U8 => data.push(((v * 127.0).round() as i32 + 128) as u8),
                WavFormat::I16 => data.extend_from_slice(&((v * 32767.0).round() as i16).to_le_bytes()),
                WavFormat::I24 => data.extend_from_slice(&((v * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
                WavFormat::I32 => data.extend_from_slice(&((v as f64 * 2_147_483_647.0).round() as i32).to_le_bytes()),
                WavFormat::F32 => data.extend_from_slice(&v.to_le_bytes()),
            }
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&ch.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * block as u32).to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).expect("write wav");
}

/// A file name inside `dir`.
pub fn file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A mono tone of `seconds` at `rate`.
pub fn tone(seconds: f64, rate: u32, freq: f64, amp: f32) -> Vec<f32> {
    (0..(seconds * rate as f64) as usize)
        .map(|i| amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
        .collect()
}
