//! Stage options, as a user sets them in `haul.toml`.

use serde::Deserialize;

/// Options of the heart-sound stage. Every field has a default taken from the literature
/// (see HANDOFF.md / module docs for the source of each value).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Sample rate (Hz) the recording is resampled to before analysis. Springer et al. 2016
    /// analyse at 1000 Hz; it must stay above twice `band_high_hz`.
    pub analysis_rate_hz: u32,
    /// Lower edge (Hz) of the band-pass filter (Springer et al. 2016: 25 Hz).
    pub band_low_hz: f32,
    /// Upper edge (Hz) of the band-pass filter (Springer et al. 2016: 400 Hz).
    pub band_high_hz: f32,
    /// Remove friction spikes before the envelopes (Schmidt et al. 2010).
    pub remove_spikes: bool,
    /// Lowest heart rate searched (beats per minute).
    pub min_bpm: f32,
    /// Highest heart rate searched (beats per minute); children reach 200.
    pub max_bpm: f32,
    /// Length (s) of the blocks a long recording is cut into; heart rate and duration priors
    /// are estimated per block, so they may drift over a long recording.
    pub block_s: f32,
    /// Signal-quality index (0..1) at or above which a recording is called usable. 0.25 lies
    /// between white noise (0.1-0.21 over 20 s) and the noisiest annotated CirCor recording
    /// (0.34); shorter recordings give noise higher chance peaks.
    pub min_quality: f32,
    /// Render the PNG plot: the whole recording wrapped into rows of `plot_row_s` seconds.
    pub plot: bool,
    /// Seconds of signal per row of the plot (every row has the same time scale).
    pub plot_row_s: f32,
    /// Most rows drawn: a recording longer than `plot_row_s * plot_max_rows` seconds is
    /// plotted up to there, and the plot says so. 12 rows of 10 s show two minutes.
    pub plot_max_rows: u32,
    /// Plot width in pixels.
    pub plot_width: u32,
    /// Height of one row in pixels; the plot's height grows with the rows.
    pub plot_row_height: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            analysis_rate_hz: 1000,
            band_low_hz: 25.0,
            band_high_hz: 400.0,
            remove_spikes: true,
            min_bpm: 30.0,
            max_bpm: 200.0,
            block_s: 30.0,
            min_quality: 0.25,
            plot: true,
            plot_row_s: 10.0,
            plot_max_rows: 12,
            plot_width: 1200,
            plot_row_height: 160,
        }
    }
}

impl Params {
    /// The options with every value checked: returns a description of the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.analysis_rate_hz < 200 {
            return Err("analysis_rate_hz must be at least 200".into());
        }
        let nyquist = self.analysis_rate_hz as f32 / 2.0;
        if !(self.band_low_hz > 0.0 && self.band_low_hz < self.band_high_hz) {
            return Err("band_low_hz must be positive and below band_high_hz".into());
        }
        if self.band_high_hz >= nyquist {
            return Err("band_high_hz must be below half of analysis_rate_hz".into());
        }
        if !(self.min_bpm >= 10.0 && self.min_bpm < self.max_bpm && self.max_bpm <= 300.0) {
            return Err("need 10 <= min_bpm < max_bpm <= 300".into());
        }
        if self.block_s.is_nan() || self.block_s < 10.0 {
            return Err("block_s must be at least 10 seconds".into());
        }
        if !(0.0..=1.0).contains(&self.min_quality) {
            return Err("min_quality must lie in 0..=1".into());
        }
        if !(self.plot_row_s >= 1.0 && self.plot_row_s <= 600.0) {
            return Err("plot_row_s must lie in 1..=600 seconds".into());
        }
        if !(1..=100).contains(&self.plot_max_rows) {
            return Err("plot_max_rows must lie in 1..=100".into());
        }
        if !(400..=8000).contains(&self.plot_width) || !(80..=1000).contains(&self.plot_row_height) {
            return Err("plot_width must lie in 400..=8000 and plot_row_height in 80..=1000 pixels".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_partial_options_and_keeps_defaults() {
        let p: Params = serde_json::from_str(r#"{"max_bpm": 220, "plot": false}"#).unwrap();
        assert_eq!(p.max_bpm, 220.0);
        assert!(!p.plot);
        assert_eq!(p.band_low_hz, 25.0);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn rejects_unknown_fields_and_bad_values() {
        assert!(serde_json::from_str::<Params>(r#"{"max_bmp": 220}"#).is_err());
        let p = Params {
            band_high_hz: 600.0,
            ..Params::default()
        };
        assert!(p.validate().is_err());
        let p = Params {
            plot_row_s: f32::NAN,
            ..Params::default()
        };
        assert!(p.validate().is_err());
        let p = Params {
            plot_max_rows: 0,
            ..Params::default()
        };
        assert!(p.validate().is_err());
    }
}
