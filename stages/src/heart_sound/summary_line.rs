//! The stage's one-line summary of an output (see `Stage::summary`), also the plot's title:
//! `72 bpm (HRV 35 ms), 14 beats, S1/S2 labelled (confidence 0.92), murmur: none,
//! quality 0.85 usable`.
//!
//! It reads the JSON output, not [`Analysis`](super::Analysis), so it also summarises results
//! stored by older versions: a missing field reads as unknown, never as an error.

use serde_json::Value;

/// The parts of the summary, in the order of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryParts {
    /// `72 bpm (HRV 35 ms)`; HRV is SDNN, the standard deviation of the beat-to-beat
    /// intervals. `no heart rate` when none was found.
    pub rate: String,
    /// `14 beats` when S1/S2 are labelled, else `28 heart sounds`.
    pub count: String,
    /// `S1/S2 labelled (confidence 0.92)` or `S1/S2 uncertain`.
    pub labelling: String,
    /// `murmur: none`, `murmur: systolic (6.2 dB)`, `murmur: phase unknown (4.1 dB)`.
    pub murmur: String,
    /// `quality 0.85 usable`, or `quality 0.12 unusable (the first reason)`.
    pub quality: String,
}

impl SummaryParts {
    /// The parts of `output`'s summary.
    pub fn of(output: &Value) -> Self {
        let f = |path: &str| output.pointer(path).and_then(Value::as_f64);
        let rate = match f("/heart_rate/bpm") {
            Some(bpm) => {
                let mut notes = Vec::new();
                if let Some(sdnn) = f("/heart_rate/variability/sdnn_ms") {
                    notes.push(format!("HRV {sdnn:.0} ms"));
                }
                if output.pointer("/heart_rate/source").and_then(Value::as_str) == Some("autocorrelation") {
                    notes.push("from autocorrelation".to_owned());
                }
                match notes.is_empty() {
                    true => format!("{bpm:.0} bpm"),
                    false => format!("{bpm:.0} bpm ({})", notes.join(", ")),
                }
            }
            None => "no heart rate".to_owned(),
        };
        let confident = output.pointer("/labelling/status").and_then(Value::as_str) == Some("confident");
        let len = |path: &str| output.pointer(path).and_then(Value::as_array).map_or(0, Vec::len);
        let (count, labelling) = match confident {
            true => (
                plural(len("/beats"), "beat"),
                match f("/labelling/confidence") {
                    Some(c) => format!("S1/S2 labelled (confidence {c:.2})"),
                    None => "S1/S2 labelled".to_owned(),
                },
            ),
            false => (plural(len("/sounds"), "heart sound"), "S1/S2 uncertain".to_owned()),
        };
        Self {
            rate,
            count,
            labelling,
            murmur: murmur(output),
            quality: quality(output),
        }
    }

    /// The whole line.
    pub fn line(&self) -> String {
        format!(
            "{}, {}, {}, {}, {}",
            self.rate, self.count, self.labelling, self.murmur, self.quality
        )
    }
}

/// The one-line summary of a heart-sound output.
pub fn summary_line(output: &Value) -> String {
    SummaryParts::of(output).line()
}

fn plural(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

fn murmur(output: &Value) -> String {
    let kind = output.pointer("/murmur/kind").and_then(Value::as_str);
    let score = output.pointer("/murmur/score").and_then(Value::as_f64);
    match (kind, score) {
        (None, _) => "murmur: unknown".to_owned(),
        (Some("none"), _) => "murmur: none".to_owned(),
        (Some(kind), Some(db)) => format!("murmur: {} ({db:.1} dB)", kind.replace('_', " ")),
        (Some(kind), None) => format!("murmur: {}", kind.replace('_', " ")),
    }
}

fn quality(output: &Value) -> String {
    let index = output
        .pointer("/quality/index")
        .and_then(Value::as_f64)
        .map_or("?".to_owned(), |q| format!("{q:.2}"));
    match output.pointer("/quality/usable").and_then(Value::as_bool) {
        Some(true) => format!("quality {index} usable"),
        Some(false) => match output.pointer("/quality/reasons/0").and_then(Value::as_str) {
            Some(reason) => format!("quality {index} unusable ({reason})"),
            None => format!("quality {index} unusable"),
        },
        None => format!("quality {index}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_labelled_recording_reads_as_rate_beats_labels_murmur_and_quality() {
        let out = json!({
            "heart_rate": { "bpm": 71.8, "source": "segmentation",
                "variability": { "sdnn_ms": 35.2, "rmssd_ms": 20.0 } },
            "beats": vec![json!({}); 14], "sounds": vec![json!({}); 28],
            "labelling": { "status": "confident", "confidence": 0.921_3 },
            "murmur": { "kind": "none", "score": 0.4 },
            "quality": { "index": 0.851, "usable": true, "reasons": [] }
        });
        assert_eq!(
            summary_line(&out),
            "72 bpm (HRV 35 ms), 14 beats, S1/S2 labelled (confidence 0.92), murmur: none, quality 0.85 usable"
        );
    }

    #[test]
    fn an_uncertain_noisy_recording_counts_sounds_and_gives_the_first_reason() {
        let out = json!({
            "heart_rate": { "bpm": 140.2, "source": "autocorrelation", "variability": null },
            "beats": [], "sounds": vec![json!({}); 1],
            "labelling": { "status": "uncertain", "confidence": 0.5 },
            "murmur": { "kind": "phase_unknown", "score": 4.14 },
            "quality": { "index": 0.12, "usable": false, "reasons": ["no heart rhythm found", "other"] }
        });
        assert_eq!(
            summary_line(&out),
            "140 bpm (from autocorrelation), 1 heart sound, S1/S2 uncertain, murmur: phase unknown (4.1 dB), \
             quality 0.12 unusable (no heart rhythm found)"
        );
    }

    #[test]
    fn an_output_without_the_expected_fields_is_summarised_as_unknown() {
        assert_eq!(
            summary_line(&json!({ "heart_rate": null })),
            "no heart rate, 0 heart sounds, S1/S2 uncertain, murmur: unknown, quality ?"
        );
    }
}
