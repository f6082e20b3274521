//! `heart-sound`: decode a phonocardiogram (WAV, FLAC, MP3, Ogg Vorbis; any rate and channel
//! count), find the heart rate and the S1/S2 sounds of each beat, rate the signal quality,
//! and plot it. The method is documented in `analysis.rs` and the README.

mod analysis;
mod beats;
mod decode;
mod emission;
mod envelope;
mod error;
mod eval;
mod filter;
mod font;
mod heart_rate;
mod hsmm;
mod params;
mod plot;
mod quality;
mod resample;
mod segment;
pub mod synth;

pub use analysis::{Analysis, BlockSummary, HeartRate, Trace, analyze_file, analyze_signal};
pub use beats::{Beat, Sound, Variability};
pub use decode::{Decoded, SourceInfo, decode_file};
pub use error::HeartSoundError;
pub use eval::{Counts, EvalReport, EvalRow, evaluate, print_table};
pub use params::Params;
pub use plot::render_plot;
pub use quality::Quality;
pub use resample::{Resampler, resample};

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
                true => Some(render_plot(&analysis, params.plot_width, params.plot_height)?),
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
}
