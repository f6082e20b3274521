//! Patient metadata of a CirCor-style dataset (`PATIENT.txt` beside `PATIENT_LOC.wav`).
//!
//! The lines the evaluation reads are `#Murmur: Present|Absent|Unknown`,
//! `#Murmur locations: AV+MV` (the valves where the murmur is heard, `nan` when none),
//! `#Age: Neonate|Infant|Child|Adolescent|Young adult` and `#Systolic murmur timing` /
//! `#Diastolic murmur timing` (`nan` when that phase has no murmur). A recording's valve is
//! the part of its file stem after the patient id (`50136_AV` or `50136_AV_1` -> `AV`).

use std::path::Path;

use serde::Serialize;

/// Where, relative to this recording's valve, the patient's murmur is heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MurmurGroup {
    /// Murmur present and heard at the valve of this recording.
    PresentHere,
    /// Murmur present, heard at other valves only.
    PresentElsewhere,
    /// No murmur.
    Absent,
    /// The annotators could not tell.
    Unknown,
    /// No metadata file, or no `#Murmur` line in it.
    NoMetadata,
}

impl MurmurGroup {
    /// Label used in the report.
    pub fn label(self) -> &'static str {
        match self {
            MurmurGroup::PresentHere => "murmur at this valve",
            MurmurGroup::PresentElsewhere => "murmur elsewhere",
            MurmurGroup::Absent => "murmur absent",
            MurmurGroup::Unknown => "murmur unknown",
            MurmurGroup::NoMetadata => "murmur: no metadata",
        }
    }
}

/// What the metadata says about one recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordingMeta {
    /// Murmur relative to this valve.
    pub murmur: MurmurGroup,
    /// Age group as written (`Child`, ...), `unknown` when absent or `nan`.
    pub age: String,
    /// The patient has a systolic murmur (timing given).
    pub systolic_murmur: bool,
    /// The patient has a diastolic murmur (timing given).
    pub diastolic_murmur: bool,
}

impl RecordingMeta {
    fn missing() -> RecordingMeta {
        RecordingMeta {
            murmur: MurmurGroup::NoMetadata,
            age: "unknown".into(),
            systolic_murmur: false,
            diastolic_murmur: false,
        }
    }
}

/// Split a stem `PATIENT_LOC` or `PATIENT_LOC_N` into patient id and valve.
pub fn patient_and_valve(stem: &str) -> Option<(&str, &str)> {
    let mut parts = stem.split('_');
    let patient = parts.next().filter(|p| !p.is_empty())?;
    let valve = parts.next().filter(|v| !v.is_empty())?;
    Some((patient, valve))
}

/// Metadata of the recording `stem` in `dataset` (never an error: a missing or unreadable
/// file gives [`MurmurGroup::NoMetadata`]).
pub fn recording_meta(dataset: &Path, stem: &str) -> RecordingMeta {
    let Some((patient, valve)) = patient_and_valve(stem) else {
        return RecordingMeta::missing();
    };
    match std::fs::read_to_string(dataset.join(format!("{patient}.txt"))) {
        Ok(text) => parse_meta(&text, valve),
        Err(_) => RecordingMeta::missing(),
    }
}

/// Value of a `#Key: value` line, `None` when absent or `nan`.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('#'))
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("nan"))
}

/// Parse a patient file for the recording at `valve`.
pub fn parse_meta(text: &str, valve: &str) -> RecordingMeta {
    let heard_here =
        field(text, "Murmur locations").is_some_and(|l| l.split('+').any(|v| v.trim().eq_ignore_ascii_case(valve)));
    let murmur = match field(text, "Murmur").map(str::to_ascii_lowercase).as_deref() {
        Some("present") if heard_here => MurmurGroup::PresentHere,
        Some("present") => MurmurGroup::PresentElsewhere,
        Some("absent") => MurmurGroup::Absent,
        Some("unknown") => MurmurGroup::Unknown,
        _ => MurmurGroup::NoMetadata,
    };
    RecordingMeta {
        murmur,
        age: field(text, "Age").unwrap_or("unknown").to_string(),
        systolic_murmur: field(text, "Systolic murmur timing").is_some(),
        diastolic_murmur: field(text, "Diastolic murmur timing").is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "50136 2 4000\nAV 50136_AV.hea 50136_AV.wav 50136_AV.tsv\n#Age: Infant\n\
        #Murmur: Present\n#Murmur locations: AV+MV\n#Systolic murmur timing: Holosystolic\n\
        #Diastolic murmur timing: nan\n";

    #[test]
    fn murmur_is_placed_relative_to_the_recording_valve() {
        let here = parse_meta(TEXT, "MV");
        assert_eq!(here.murmur, MurmurGroup::PresentHere);
        assert_eq!(here.age, "Infant");
        assert!(here.systolic_murmur && !here.diastolic_murmur);
        assert_eq!(parse_meta(TEXT, "TV").murmur, MurmurGroup::PresentElsewhere);
        let absent = parse_meta("#Murmur: Absent\n#Murmur locations: nan\n#Age: nan\n", "AV");
        assert_eq!(absent.murmur, MurmurGroup::Absent);
        assert_eq!(absent.age, "unknown");
        assert_eq!(parse_meta("", "AV").murmur, MurmurGroup::NoMetadata);
    }

    #[test]
    fn stems_split_into_patient_and_valve() {
        assert_eq!(patient_and_valve("50136_AV"), Some(("50136", "AV")));
        assert_eq!(patient_and_valve("50136_AV_1"), Some(("50136", "AV")));
        assert_eq!(patient_and_valve("a0001"), None);
    }
}
