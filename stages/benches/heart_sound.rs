//! Throughput of the heart-sound stage. Throughput is given in "elements" = seconds of audio,
//! so criterion's `elem/s` figure reads directly as "x real time" (one core).
//!
//! `cargo bench --bench heart_sound`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use haul_stages::heart_sound::synth::{SynthSpec, synthesize};
use haul_stages::heart_sound::{Params, analyze_file, render_plot};

const SECONDS: f64 = 120.0;

/// A 16-bit mono WAV of `samples` at `rate` Hz.
fn wav_bytes(samples: &[f32], rate: u32) -> Vec<u8> {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|v| ((v.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect();
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    for v in [
        16u32.to_le_bytes(),
        [1, 0, 1, 0],
        rate.to_le_bytes(),
        (rate * 2).to_le_bytes(),
        [2, 0, 16, 0],
    ] {
        out.extend_from_slice(&v);
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("haul-heart-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut group = c.benchmark_group("heart_sound");
    group.sample_size(20);
    group.throughput(Throughput::Elements(SECONDS as u64));
    let params = Params::default();
    for (rate, bpm) in [(4000u32, 75.0), (4000, 140.0), (44100, 75.0)] {
        let spec = SynthSpec {
            seconds: SECONDS,
            rate,
            noise: 0.3,
            ..SynthSpec::new(bpm)
        };
        let path = dir.join(format!("pcg_{rate}_{bpm}.wav"));
        std::fs::write(&path, wav_bytes(&synthesize(&spec), rate)).expect("write wav");
        group.bench_function(format!("analyze_file_{rate}hz_{bpm}bpm_{SECONDS}s"), |b| {
            b.iter(|| analyze_file(black_box(&path), &params).expect("analysis"))
        });
    }
    // The plot alone: a typical 20 s recording (2 rows) and the largest plot, two minutes
    // (12 rows of 10 s, 1200 x 2076).
    group.throughput(Throughput::Elements(1));
    for seconds in [20.0, SECONDS] {
        let spec = SynthSpec {
            seconds,
            noise: 0.3,
            ..SynthSpec::new(75.0)
        };
        let path = dir.join(format!("plot_{seconds}.wav"));
        std::fs::write(&path, wav_bytes(&synthesize(&spec), spec.rate)).expect("write wav");
        let analysis = analyze_file(&path, &params).expect("analysis");
        group.bench_function(format!("render_plot_{seconds}s"), |b| {
            b.iter(|| render_plot(black_box(&analysis), &params).expect("plot"))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
