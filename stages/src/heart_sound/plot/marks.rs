//! What the plot marks on the waveform: S1 and S2 of each beat, or every heart sound found
//! when S1 and S2 could not be told apart; and the amplitude scale.

use plotters::style::RGBColor;

use crate::heart_sound::analysis::Analysis;
use crate::heart_sound::beats::Sound;

/// Colour of S1 marks.
pub const S1_COLOUR: RGBColor = RGBColor(215, 38, 38);
/// Colour of S2 marks.
pub const S2_COLOUR: RGBColor = RGBColor(30, 90, 215);
/// Colour of heart sounds not labelled S1 or S2.
pub const SOUND_COLOUR: RGBColor = RGBColor(120, 120, 120);

/// Which sound a mark is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// First heart sound.
    S1,
    /// Second heart sound.
    S2,
    /// A heart sound of a recording whose S1/S2 labelling is uncertain.
    Sound,
}

impl MarkKind {
    /// The mark's colour.
    pub fn colour(self) -> RGBColor {
        match self {
            MarkKind::S1 => S1_COLOUR,
            MarkKind::S2 => S2_COLOUR,
            MarkKind::Sound => SOUND_COLOUR,
        }
    }

    /// The text above the mark (none for an unlabelled sound).
    pub fn label(self) -> Option<&'static str> {
        match self {
            MarkKind::S1 => Some("S1"),
            MarkKind::S2 => Some("S2"),
            MarkKind::Sound => None,
        }
    }
}

/// One marked sound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// Where it is.
    pub sound: Sound,
    /// What it is.
    pub kind: MarkKind,
}

/// The marks of an analysis, in time order: S1 and S2 of every beat when the labelling is
/// confident, else every sound found, unlabelled.
pub fn marks(a: &Analysis) -> Vec<Mark> {
    let mut marks: Vec<Mark> = match a.labelling.is_confident() {
        true => a
            .beats
            .iter()
            .flat_map(|b| [(b.s1, MarkKind::S1), (b.s2, MarkKind::S2)])
            .filter_map(|(s, kind)| s.map(|sound| Mark { sound, kind }))
            .collect(),
        false => a
            .sounds
            .iter()
            .map(|&sound| Mark {
                sound,
                kind: MarkKind::Sound,
            })
            .collect(),
    };
    marks.sort_by(|x, y| x.sound.onset_s.total_cmp(&y.sound.onset_s));
    marks
}

/// Share of samples the amplitude scale leaves above full height (clipped in the plot).
const CLIPPED_SHARE: f64 = 0.001;

/// The amplitude drawn as 1: the 99.9th percentile of |signal| (robust to a few spikes), or
/// a tiny positive number for silence.
pub fn amplitude_scale(signal: &[f32]) -> f32 {
    let mut magnitudes: Vec<f32> = signal.iter().map(|v| v.abs()).filter(|v| v.is_finite()).collect();
    if magnitudes.is_empty() {
        return 1e-9;
    }
    let k = ((magnitudes.len() as f64 * (1.0 - CLIPPED_SHARE)) as usize).min(magnitudes.len() - 1);
    let (_, at, _) = magnitudes.select_nth_unstable_by(k, f32::total_cmp);
    at.max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amplitude_scale_ignores_a_rare_spike() {
        let mut x: Vec<f32> = (0..10_000).map(|i| ((i as f32) * 0.1).sin() * 0.5).collect();
        x[5000] = 40.0;
        let s = amplitude_scale(&x);
        assert!((0.49..=0.5).contains(&s), "{s}");
        assert_eq!(amplitude_scale(&[]), 1e-9);
        assert_eq!(amplitude_scale(&[0.0; 10]), 1e-9);
    }
}
