//! Small generated payloads of each type the built-in stages handle: each stage's
//! [`Stage::sample`](haul_pipeline::Stage::sample) for `demo`, and inputs for end-to-end
//! tests. Nothing is downloaded, nothing third-party is shipped.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

use crate::heart_sound::synth::{SynthSpec, synthesize};

/// A 16-bit mono PCM WAV file.
pub fn wav(samples: &[f32], rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let peak = samples.iter().fold(1e-9f32, |m, s| m.max(s.abs()));
    for s in samples {
        let v = (s / peak * 0.9 * f32::from(i16::MAX)).round() as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A synthetic phonocardiogram: `seconds` at 4 kHz, `bpm` beats per minute.
pub fn heart_sound(bpm: f64, seconds: f64) -> Vec<u8> {
    let spec = SynthSpec {
        seconds,
        ..SynthSpec::new(bpm)
    };
    wav(&synthesize(&spec), spec.rate)
}

/// A street-like photo (noise, a car-coloured block) with a white plate of dark glyphs.
pub fn plate_photo() -> Vec<u8> {
    let (w, h) = (640u32, 480u32);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 56) as u8
    };
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        let base = if y < 200 { 150 } else { 90 };
        Rgb([base, base, base])
    });
    for px in img.pixels_mut() {
        let n = rand() / 4;
        px.0 = px.0.map(|c| c.saturating_add(n));
    }
    fill(&mut img, 120, 180, 400, 240, [40, 60, 140]);
    let (px, py, pw, ph) = (230u32, 330u32, 180u32, 40u32);
    fill(&mut img, px, py, pw, ph, [245, 245, 245]);
    fill(&mut img, px, py, 14, ph, [20, 50, 170]); // the EU country band
    for i in 0..7 {
        let gx = px + 22 + i * 22;
        fill(&mut img, gx, py + 7, 4, ph - 14, [15, 15, 15]);
        fill(&mut img, gx + 4, py + 7, 8, 4, [15, 15, 15]);
        fill(&mut img, gx + 4, py + ph / 2 - 2, 8, 4, [15, 15, 15]);
        fill(&mut img, gx + 4, py + ph - 11, 8, 4, [15, 15, 15]);
        if i % 2 == 0 {
            fill(&mut img, gx + 12, py + 7, 4, ph - 14, [15, 15, 15]);
        }
    }
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB image cannot fail.
    let _ = img.write_to(&mut out, ImageFormat::Jpeg);
    out.into_inner()
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Rgb(rgb));
        }
    }
}

/// An MDF4 measurement file: a time master and `channels` f64 channels, `records` rows.
pub fn mdf(channels: u32, records: u64) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = crate::mdf::write::write_f64(&mut out, channels, records);
    out
}

/// A file in the demo sensor format of the default `haul.toml` (`[stages.records]`):
/// magic `HREC`, version, serial, count, then records of t_ms, temperature (0.01 °C),
/// humidity (0.01 %), pressure (hPa), each followed by its CRC-32.
pub fn sensor_records(count: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"HREC");
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(b"SN-00042");
    out.extend_from_slice(&count.to_le_bytes());
    for i in 0..count {
        let mut rec = Vec::with_capacity(12);
        rec.extend_from_slice(&(i * 1000).to_le_bytes());
        rec.extend_from_slice(&(2150 + (i % 40) as i16 * 5).to_le_bytes());
        rec.extend_from_slice(&((4500 + (i % 20) * 10) as u16).to_le_bytes());
        rec.extend_from_slice(&(1013.25f32 - (i % 10) as f32 * 0.1).to_le_bytes());
        let crc = crc32fast::hash(&rec);
        out.extend_from_slice(&rec);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}
