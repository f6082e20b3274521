//! Analysis of synthetic phonocardiograms with a known rate, written to WAV files and read
//! back through the stage's entry point; quality verdict; evaluation (the plot: heart_sound_plot.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod heart_common;

use haul_stages::heart_sound::synth::{SynthSpec, beat_times, synthesize};
use haul_stages::heart_sound::{Analysis, Params, analyze_file, evaluate, print_table};
use heart_common::{WavFormat, file, write_wav};

fn analyze(spec: &SynthSpec) -> Analysis {
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "pcg.wav");
    write_wav(&path, &[synthesize(spec)], spec.rate, WavFormat::I16);
    analyze_file(&path, &Params::default()).unwrap()
}

/// Rate of the beats actually generated (jitter makes it differ slightly from the nominal).
fn true_bpm(spec: &SynthSpec) -> f64 {
    let beats = beat_times(spec);
    60.0 * (beats.len() - 1) as f64 / (beats[beats.len() - 1].0 - beats[0].0)
}

#[test]
fn synthetic_recordings_from_50_to_180_bpm_give_the_rate_within_2_bpm() {
    for (i, bpm) in [50.0, 58.0, 66.0, 75.0, 88.0, 100.0, 115.0, 130.0, 145.0, 160.0, 180.0]
        .into_iter()
        .enumerate()
    {
        for noise in [0.05, 0.3] {
            let spec = SynthSpec {
                noise,
                seed: 7 + i as u64,
                ..SynthSpec::new(bpm)
            };
            let a = analyze(&spec);
            let got = a.heart_rate.map(|h| h.bpm).unwrap_or(f64::NAN);
            let want = true_bpm(&spec);
            assert!(
                (got - want).abs() <= 2.0,
                "{bpm} bpm, noise {noise}: got {got:.1}, want {want:.1}"
            );
            assert!(a.quality.usable, "{bpm} bpm, noise {noise}: {:?}", a.quality);
        }
    }
}

/// Share of `want` times with a `got` time within 100 ms.
fn recall(want: &[f64], got: &[f64]) -> f64 {
    want.iter()
        .filter(|w| got.iter().any(|g| (g - *w).abs() <= 0.1))
        .count() as f64
        / want.len() as f64
}

#[test]
fn synthetic_s1_and_s2_are_found_where_they_were_put_and_never_swapped() {
    for bpm in [60.0, 90.0, 120.0, 150.0, 170.0, 185.0] {
        let spec = SynthSpec {
            noise: 0.2,
            ..SynthSpec::new(bpm)
        };
        let a = analyze(&spec);
        let truth = beat_times(&spec);
        // Centres of the synthetic bursts: S1 lasts 110 ms, S2 80 ms.
        let inside = |t: &f64| *t > 0.5 && *t < 19.5;
        let s1: Vec<f64> = truth.iter().map(|b| b.0 + 0.055).filter(inside).collect();
        let s2: Vec<f64> = truth.iter().map(|b| b.1 + 0.040).filter(inside).collect();
        let sounds: Vec<f64> = a.sounds.iter().map(|s| s.centre_s).collect();
        let (r1, r2) = (recall(&s1, &sounds), recall(&s2, &sounds));
        assert!(
            r1 >= 0.95 && r2 >= 0.95,
            "{bpm} bpm: sounds at S1 {r1:.2}, at S2 {r2:.2}"
        );
        if bpm <= 120.0 {
            assert!(a.labelling.is_confident(), "{bpm} bpm: {:?}", a.labelling);
        }
        if !a.labelling.is_confident() {
            assert!(a.beats.is_empty(), "{bpm} bpm: uncertain labels must not be given");
            continue;
        }
        let found1: Vec<f64> = a.beats.iter().filter_map(|b| b.s1.map(|s| s.centre_s)).collect();
        let found2: Vec<f64> = a.beats.iter().filter_map(|b| b.s2.map(|s| s.centre_s)).collect();
        let (r1, r2) = (recall(&s1, &found1), recall(&s2, &found2));
        assert!(
            r1 >= 0.95 && r2 >= 0.95,
            "{bpm} bpm: S1 recall {r1:.2}, S2 recall {r2:.2}"
        );
        let sys = a.beats.iter().filter_map(|b| b.systole_s).collect::<Vec<_>>();
        assert!(!sys.is_empty() && a.beats.iter().any(|b| b.diastole_s.is_some()));
    }
}

#[test]
fn noise_without_heart_sounds_is_unusable() {
    let spec = SynthSpec {
        noise: 1.0,
        ..SynthSpec::new(80.0)
    };
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "noise.wav");
    // Only the noise: subtract the clean signal from the noisy one.
    let noisy = synthesize(&spec);
    let clean = synthesize(&SynthSpec { noise: 0.0, ..spec });
    let noise: Vec<f32> = noisy.iter().zip(&clean).map(|(a, b)| (a - b) * 0.5).collect();
    write_wav(&path, &[noise], spec.rate, WavFormat::I16);
    let a = analyze_file(&path, &Params::default()).unwrap();
    assert!(!a.quality.usable, "{:?}", a.quality);
    assert!(!a.quality.reasons.is_empty());
}

#[test]
fn evaluation_scores_a_synthetic_dataset_and_prints_a_table() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bpm) in [("a_AV", 70.0), ("b_MV", 125.0)] {
        let spec = SynthSpec {
            noise: 0.1,
            ..SynthSpec::new(bpm)
        };
        write_wav(
            &file(&dir, &format!("{name}.wav")),
            &[synthesize(&spec)],
            spec.rate,
            WavFormat::I16,
        );
        let mut tsv = String::new();
        for (s1, s2) in beat_times(&spec).into_iter().filter(|b| b.0 > 2.0 && b.1 + 0.08 < 18.0) {
            tsv += &format!("{:.4}\t{:.4}\t1\n{:.4}\t{:.4}\t2\n", s1, s1 + 0.11, s1 + 0.11, s2);
            tsv += &format!("{:.4}\t{:.4}\t3\n{:.4}\t{:.4}\t4\n", s2, s2 + 0.08, s2 + 0.08, s2 + 0.2);
        }
        std::fs::write(file(&dir, &format!("{name}.tsv")), tsv).unwrap();
    }
    let report = evaluate(dir.path(), &Params::default()).unwrap();
    assert_eq!(report.recordings, 2);
    assert_eq!(report.hr_within_5bpm, 2);
    assert!(report.s1_f1 > 0.95 && report.s2_f1 > 0.95, "{report:?}");
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "recordings",
        "hr_within_5bpm",
        "s1_f1",
        "s2_f1",
        "ms_per_recording",
        "rows",
        "subgroups",
        "doubled",
        "halved",
        "swapped",
        "unlabelled",
        "murmur",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let table = print_table(&report);
    assert!(table.contains("a_AV") && table.contains("overall"), "{table}");
}

#[test]
fn a_long_recording_is_analysed_in_blocks_that_follow_a_changing_rate() {
    // 50 s at 70 bpm then 50 s at 110 bpm: blocks of about 30 s see each rate.
    let slow = SynthSpec {
        seconds: 50.0,
        ..SynthSpec::new(70.0)
    };
    let fast = SynthSpec {
        seconds: 50.0,
        seed: 3,
        ..SynthSpec::new(110.0)
    };
    let mut x = synthesize(&slow);
    x.extend(synthesize(&fast));
    let dir = tempfile::tempdir().unwrap();
    let path = file(&dir, "long.wav");
    write_wav(&path, &[x], 4000, WavFormat::I16);
    let a = analyze_file(&path, &Params::default()).unwrap();
    assert_eq!(a.blocks.len(), 3);
    let first = a.blocks[0].bpm.unwrap();
    let last = a.blocks[2].bpm.unwrap();
    assert!((first - true_bpm(&slow)).abs() <= 2.0, "first block {first}");
    assert!((last - true_bpm(&fast)).abs() <= 2.0, "last block {last}");
    // Beats are found all along, without gaps at the block boundaries.
    let s1: Vec<f64> = a.beats.iter().filter_map(|b| b.s1.map(|s| s.centre_s)).collect();
    let longest_gap = s1.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(longest_gap < 1.2, "gap of {longest_gap:.2} s between S1 sounds");
    assert!(s1.len() >= 140, "{} S1 sounds", s1.len());
}
