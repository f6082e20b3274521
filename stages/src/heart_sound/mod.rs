//! `heart-sound`: decode a phonocardiogram (WAV, FLAC, MP3, Ogg Vorbis; any rate and channel
//! count), find the heart rate and the S1/S2 sounds of each beat, tell S1 from S2 or say it
//! cannot, flag a murmur, rate the signal quality, and plot it.
//!
//! # Method
//!
//! 1. Decode, mix to mono, resample to 1 kHz (`decode.rs`, `resample.rs`); band-pass
//!    25-400 Hz and remove friction spikes (`filter.rs`; Springer et al. 2016, Schmidt et al.
//!    2010).
//! 2. Envelopes at 50 frames/s: homomorphic, Hilbert and a 25-80 Hz low band where S1 and S2
//!    carry their energy and most murmurs little (`envelope.rs`).
//! 3. Per block of about 30 s: candidate heart cycles from the envelope autocorrelation
//!    (`heart_rate.rs`), each segmented by an explicit-duration HSMM with emissions and
//!    durations learnt from the recording itself, systole and diastole admitting an extra sound
//!    (S3, a click) without slipping the cycle (`hypotheses.rs`, `training.rs`,
//!    `emission.rs`, `hsmm.rs`); the cycle whose segmentation explains the envelope best wins,
//!    which rejects an S1-S2 interval taken for a cycle.
//! 4. S1/S2 labelling verdict from the timing of systole and diastole weighed together with
//!    beat-to-beat variability and pitch (Stouffer's method; pitch not read when a murmur is
//!    heard), uncertain below one-sided 5 % significance (`cues.rs`, `labelling.rs`).
//! 5. Heart rate from the clearer half of the segmented cycles, the autocorrelation as fallback
//!    (`rhythm.rs`); beats, intervals and variability (`beats.rs`); murmur indicator from the
//!    inner systole and diastole of each beat (`murmur.rs`); quality (`quality.rs`); plot
//!    (`plot/`).
//!
//! # Output (JSON, [`Analysis`])
//!
//! `source`, `analysis_rate_hz`, `heart_rate` (`bpm`, `source`: `segmentation` or
//! `autocorrelation`, `segmentation_bpm`, `autocorrelation_bpm`, `variability`), `beats` (S1
//! and S2 per beat with onset, end, centre and `prominence`, systolic and diastolic intervals;
//! empty when the labelling is uncertain), `sounds` (every heart sound found, unlabelled),
//! `labelling` (`status`: `confident` or `uncertain`, `confidence`, `cues`), `murmur` (`kind`:
//! `systolic`, `diastolic`, `phase_unknown` or `none`, `score` in dB, `systolic_db`,
//! `systole_louder`, `beats`), `quality`, `blocks`. Fields added since the first version:
//! `sounds`, `labelling`, `murmur`, `Sound::prominence`, `HeartRate::source`,
//! `segmentation_bpm`, `autocorrelation_bpm`; `heart_rate.bpm` now comes from the segmentation
//! when it covers the recording.
//!
//! The stage's one-line summary (`haul run`, `demo`) is [`summary_line`]: `72 bpm (HRV 35
//! ms), 14 beats, S1/S2 labelled (confidence 0.92), murmur: none, quality 0.85 usable`, HRV
//! being SDNN.
//!
//! # Plot (`plot.png`)
//!
//! The whole recording wrapped into rows of `plot_row_s` (10 s) on one time scale, at most
//! `plot_max_rows` (12) rows, with a note in the image when a longer recording is cut; time
//! in seconds, amplitude in arbitrary units (the band-passed signal over its 99.9th
//! percentile); S1 red and S2 blue on every beat, or every heart sound grey when S1/S2 are
//! uncertain; the heart rate in the title. Text in DejaVu Sans, embedded. See `plot/mod.rs`.
//!
//! `haul eval heart-sound` scores the stage on annotated recordings, by subgroup when patient
//! metadata is present (`eval/`).

mod analysis;
mod beats;
mod cues;
mod decode;
mod emission;
mod envelope;
mod error;
mod eval;
mod filter;
mod heart_rate;
mod hsmm;
mod hypotheses;
mod labelling;
mod murmur;
mod params;
mod plot;
mod quality;
mod resample;
mod rhythm;
mod segment;
mod summary_line;
pub mod synth;
mod training;

pub use analysis::{Analysis, BlockSummary, Trace, analyze_file, analyze_signal};
pub use beats::{Beat, Sound, Variability};
pub use cues::Cues;
pub use decode::{Decoded, SourceInfo, decode_bytes, decode_file};
pub use error::HeartSoundError;
pub use eval::{
    Counts, EvalReport, EvalRow, HrOutcome, MurmurGroup, MurmurScores, RecordingMeta, Subgroup, evaluate, print_table,
};
pub use labelling::{LabelStatus, Labelling};
pub use murmur::{MurmurIndicator, MurmurKind};
pub use params::Params;
pub use plot::{Layout as PlotLayout, render_plot};
pub use quality::Quality;
pub use resample::{Resampler, resample};
pub use rhythm::{HeartRate, RateSource};
pub use summary_line::{SummaryParts, summary_line};

use haul_pipeline::prelude::*;

/// The `heart-sound` stage; its options are [`Params`] (`[stages.heart-sound]`).
#[derive(Debug, Default)]
pub struct HeartSoundStage {
    params: Params,
}

impl HeartSoundStage {
    /// A stage with these parameters; invalid ones are an error naming the field.
    pub fn new(params: Params) -> Result<Self, String> {
        params.validate()?;
        Ok(Self { params })
    }
}

impl Stage for HeartSoundStage {
    fn name(&self) -> &str {
        "heart-sound"
    }

    async fn process(&self, object: Object, cx: &Context) -> Result<Output, StageError> {
        let file = object.file(cx.scratch_dir()).await?;
        let (path, params) = (file.path().to_owned(), self.params.clone());
        let (analysis, plot) = haul_pipeline::blocking(move || {
            let analysis = analyze_file(&path, &params)?;
            let plot = match params.plot {
                true => Some(render_plot(&analysis, &params)?),
                false => None,
            };
            Ok::<_, HeartSoundError>((analysis, plot))
        })
        .await??;
        let mut output = Output::serialize(&analysis)?;
        if let Some(png) = plot {
            output = output.with_artifact(Artifact::bytes("plot.png", "image/png", png));
        }
        Ok(output)
    }

    fn sample(&self) -> Option<Sample> {
        Some(Sample::new("heart-72bpm.wav", crate::samples::heart_sound(72.0, 12.0)))
    }

    /// `72 bpm (HRV 35 ms), 14 beats, S1/S2 labelled (confidence 0.92), murmur: none,
    /// quality 0.85 usable` (see [`summary_line`]).
    fn summary(&self, output: &serde_json::Value) -> String {
        summary_line(output)
    }
}
