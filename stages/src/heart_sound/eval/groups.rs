//! Scores by subgroup: murmur relative to the recording's valve, age group, and heart-rate
//! band of the reference rate (see [`super::metadata`] and [`super::outcome`]).

use serde::Serialize;

use super::EvalRow;
use super::metadata::MurmurGroup;
use super::outcome::HrOutcome;
use super::score::Counts;

/// Scores of the recordings of one subgroup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subgroup {
    /// Which split: `all`, `murmur`, `age` or `hr_band`.
    pub family: &'static str,
    /// The subgroup's name (`murmur at this valve`, `Child`, `HR 60-100`, ...).
    pub group: String,
    /// Recordings in it.
    pub recordings: usize,
    /// Of which heart rate within 5 bpm.
    pub hr_within_5bpm: usize,
    /// Pooled S1 F1.
    pub s1_f1: f64,
    /// Pooled S2 F1.
    pub s2_f1: f64,
    /// Heart rate near twice the reference.
    pub doubled: usize,
    /// Heart rate near half the reference.
    pub halved: usize,
    /// S1 and S2 swapped.
    pub swapped: usize,
    /// Reported by the stage as not confidently labelled.
    pub unlabelled: usize,
}

/// Order of the age groups in CirCor, then anything else alphabetically.
const AGES: [&str; 5] = ["Neonate", "Infant", "Child", "Adolescent", "Young adult"];
const BANDS: [&str; 5] = ["HR <60", "HR 60-100", "HR 100-140", "HR >140", "no reference"];
const MURMURS: [MurmurGroup; 5] = [
    MurmurGroup::PresentHere,
    MurmurGroup::PresentElsewhere,
    MurmurGroup::Absent,
    MurmurGroup::Unknown,
    MurmurGroup::NoMetadata,
];

/// Every non-empty subgroup, `all` first.
pub fn subgroups(rows: &[EvalRow]) -> Vec<Subgroup> {
    let mut out = vec![summarise("all", "all recordings", rows.iter())];
    for m in MURMURS {
        push(
            &mut out,
            "murmur",
            m.label(),
            rows.iter().filter(|r| r.meta.murmur == m),
        );
    }
    let mut ages: Vec<&str> = AGES.to_vec();
    let mut others: Vec<&str> = rows.iter().map(|r| r.meta.age.as_str()).collect();
    others.sort_unstable();
    others.dedup();
    ages.extend(others.into_iter().filter(|a| !AGES.contains(a)));
    for age in ages {
        push(&mut out, "age", age, rows.iter().filter(|r| r.meta.age == age));
    }
    for band in BANDS {
        push(&mut out, "hr_band", band, rows.iter().filter(|r| r.hr_band == band));
    }
    out
}

fn push<'a>(out: &mut Vec<Subgroup>, family: &'static str, name: &str, rows: impl Iterator<Item = &'a EvalRow>) {
    let g = summarise(family, name, rows);
    if g.recordings > 0 {
        out.push(g);
    }
}

fn summarise<'a>(family: &'static str, name: &str, rows: impl Iterator<Item = &'a EvalRow>) -> Subgroup {
    let (mut s1, mut s2) = (Counts::default(), Counts::default());
    let mut g = Subgroup {
        family,
        group: name.to_string(),
        recordings: 0,
        hr_within_5bpm: 0,
        s1_f1: 1.0,
        s2_f1: 1.0,
        doubled: 0,
        halved: 0,
        swapped: 0,
        unlabelled: 0,
    };
    for r in rows {
        g.recordings += 1;
        s1 = s1.plus(r.s1);
        s2 = s2.plus(r.s2);
        g.hr_within_5bpm += usize::from(r.hr_outcome == HrOutcome::Right);
        g.doubled += usize::from(r.hr_outcome == HrOutcome::Doubled);
        g.halved += usize::from(r.hr_outcome == HrOutcome::Halved);
        g.swapped += usize::from(r.swapped);
        g.unlabelled += usize::from(!r.labelled);
    }
    g.s1_f1 = s1.f1;
    g.s2_f1 = s2.f1;
    g
}
