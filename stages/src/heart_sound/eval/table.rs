//! The evaluation report as fixed-width text tables: per recording, by subgroup, overall.

use super::EvalReport;

/// The report as text: one line per recording, the subgroup table, failure counts, murmur
/// indicator scores and the overall line.
pub fn print_table(r: &EvalReport) -> String {
    let mut out = recordings_table(r);
    out += &subgroup_table(r);
    let m = &r.murmur;
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0} %", 100.0 * v));
    out += &format!(
        "failures: doubled {}, halved {}, HR other too high {}, too low {}, S1/S2 swapped {}, unlabelled {}\n",
        r.doubled, r.halved, r.hr_too_high, r.hr_too_low, r.swapped, r.unlabelled
    );
    out += &format!(
        "heart rate within 5 bpm: {}/{} (reference across unlabelled gaps, as first defined: {}); \
         beat-to-beat rate inside the annotated span: {}/{}\n",
        r.hr_within_5bpm, r.recordings, r.hr_within_5bpm_legacy, r.hr_in_span_within_5bpm, r.recordings
    );
    out += &format!(
        "labelled recordings only: S1 F1 {:.3}, S2 F1 {:.3}\n",
        r.labelled_s1_f1, r.labelled_s2_f1
    );
    out += &format!(
        "murmur indicator: sensitivity {} ({}/{}), specificity {} ({} false of {}), timing agrees {}, \
         flagged where heard elsewhere {}/{}\n",
        pct(m.sensitivity),
        m.flagged_positives,
        m.positives,
        pct(m.specificity),
        m.flagged_negatives,
        m.negatives,
        pct(m.timing_agreement),
        m.flagged_elsewhere,
        m.elsewhere
    );
    out += &format!(
        "overall: {} recordings, HR within 5 bpm: {}/{}, HR MAE {:.2} bpm, S1 F1 {:.3}, S2 F1 {:.3}, {:.1} ms/recording\n",
        r.recordings, r.hr_within_5bpm, r.recordings, r.hr_mae_bpm, r.s1_f1, r.s2_f1, r.ms_per_recording
    );
    out
}

fn recordings_table(r: &EvalReport) -> String {
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let mut out = format!(
        "{:<12} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>5} {:>5} {:>9} {:>7}\n",
        "recording", "dur_s", "ref_bpm", "est_bpm", "err", "s1_f1", "s2_f1", "sqi", "label", "murmur", "ms"
    );
    for row in &r.rows {
        let label = match (row.labelled, row.swapped) {
            (false, _) => "unl",
            (true, true) => "SWAP",
            (true, false) => "ok",
        };
        out += &format!(
            "{:<12} {:>6.1} {:>7} {:>7} {:>6} {:>6.3} {:>6.3} {:>5.2} {:>5} {:>9} {:>7.1}\n",
            row.recording,
            row.duration_s,
            opt(row.reference_bpm),
            opt(row.estimated_bpm),
            opt(row.hr_error_bpm),
            row.s1.f1,
            row.s2.f1,
            row.quality_index,
            label,
            row.murmur_call,
            row.ms
        );
    }
    out
}

fn subgroup_table(r: &EvalReport) -> String {
    let mut out = format!(
        "\n{:<24} {:>5} {:>12} {:>6} {:>6} {:>7} {:>6} {:>7} {:>5}\n",
        "subgroup", "n", "HR<=5bpm", "s1_f1", "s2_f1", "doubled", "halved", "swapped", "unl"
    );
    for g in &r.subgroups {
        let share = 100.0 * g.hr_within_5bpm as f64 / g.recordings.max(1) as f64;
        out += &format!(
            "{:<24} {:>5} {:>5} {:>5.1}% {:>6.3} {:>6.3} {:>7} {:>6} {:>7} {:>5}\n",
            g.group,
            g.recordings,
            g.hr_within_5bpm,
            share,
            g.s1_f1,
            g.s2_f1,
            g.doubled,
            g.halved,
            g.swapped,
            g.unlabelled
        );
    }
    out + "\n"
}
