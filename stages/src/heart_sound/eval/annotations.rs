//! CirCor-style segmentation files: one `start_s end_s state` line per segment, state
//! 1 = S1, 2 = systole, 3 = S2, 4 = diastole, 0 = unlabelled.

use std::path::Path;

use super::super::error::HeartSoundError;

/// One annotation line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annotation {
    /// Start (s).
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// State code (0..=4).
    pub state: u8,
}

/// Parse a CirCor-style TSV.
pub fn parse_annotations(text: &str, path: &Path) -> Result<Vec<Annotation>, HeartSoundError> {
    let bad = |line: usize, what: &str| HeartSoundError::Dataset {
        path: path.into(),
        detail: format!("line {}: {what}", line + 1),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            return Err(bad(i, "expected `start end state`"));
        }
        let num = |s: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(i, "not a number"))
        };
        let state = f[2]
            .parse::<u8>()
            .ok()
            .filter(|s| *s <= 4)
            .ok_or_else(|| bad(i, "state not 0-4"))?;
        out.push(Annotation {
            start_s: num(f[0])?,
            end_s: num(f[1])?,
            state,
        });
    }
    Ok(out)
}

/// First labelled start to last labelled end (0, 0 when nothing is labelled).
pub fn annotated_span(ann: &[Annotation]) -> (f64, f64) {
    let mut labelled = ann.iter().filter(|a| a.state != 0);
    match (labelled.next(), ann.iter().rev().find(|a| a.state != 0)) {
        (Some(a), Some(b)) => (a.start_s, b.end_s),
        _ => (0.0, 0.0),
    }
}

/// Centres of the annotated segments of `state`.
pub fn centres(ann: &[Annotation], state: u8) -> Vec<f64> {
    ann.iter()
        .filter(|a| a.state == state)
        .map(|a| 0.5 * (a.start_s + a.end_s))
        .collect()
}

/// 60 over the mean interval between consecutive annotated S1 onsets. Two S1 onsets are
/// consecutive only when no unlabelled (state 0) segment lies between them: CirCor leaves
/// stretches it could not segment unlabelled, and an interval across such a gap spans several
/// beats (counting it as one made the reference rate of a recording with a gap far too low).
pub fn reference_rate(ann: &[Annotation]) -> Option<f64> {
    let (mut total, mut count, mut last) = (0.0, 0usize, None::<f64>);
    for a in ann {
        match a.state {
            0 => last = None,
            1 => {
                if let Some(prev) = last.filter(|p| a.start_s > *p) {
                    total += a.start_s - prev;
                    count += 1;
                }
                last = Some(a.start_s);
            }
            _ => {}
        }
    }
    (count > 0 && total > 0.0).then(|| 60.0 * count as f64 / total)
}

/// The reference rate as first defined: 60 x (S1 onsets - 1) over the time from the first to
/// the last annotated S1 onset, gaps included (kept to compare with earlier reports).
pub fn legacy_reference_rate(ann: &[Annotation]) -> Option<f64> {
    let onsets: Vec<f64> = ann.iter().filter(|a| a.state == 1).map(|a| a.start_s).collect();
    if onsets.len() < 2 {
        return None;
    }
    let span = onsets[onsets.len() - 1] - onsets[0];
    (span > 0.0).then(|| 60.0 * (onsets.len() - 1) as f64 / span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_finds_span_rate_and_centres() {
        let text = "0\t1.0\t0\n1.0\t1.1\t1\n1.1\t1.4\t2\n1.4\t1.5\t3\n1.5\t2.0\t4\n2.0\t2.1\t1\n2.1\t3\t0\n";
        let ann = parse_annotations(text, Path::new("x.tsv")).unwrap();
        assert_eq!(ann.len(), 7);
        assert_eq!(annotated_span(&ann), (1.0, 2.1));
        assert!((reference_rate(&ann).unwrap() - 60.0).abs() < 1e-9);
        assert_eq!(centres(&ann, 3), vec![1.45]);
    }

    #[test]
    fn reference_rate_skips_intervals_across_unlabelled_gaps() {
        // S1 every 0.5 s (120 bpm), then 10 s unlabelled, then two more beats.
        let mut text = String::new();
        for t in [1.0, 1.5, 2.0, 12.0, 12.5] {
            text += &format!("{t}\t{}\t1\n{}\t{}\t4\n", t + 0.1, t + 0.1, t + 0.5);
            if t == 2.0 {
                text += "2.5\t12\t0\n";
            }
        }
        let ann = parse_annotations(&text, Path::new("x.tsv")).unwrap();
        assert!((reference_rate(&ann).unwrap() - 120.0).abs() < 1e-9);
        assert!(legacy_reference_rate(&ann).unwrap() < 30.0);
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let e = parse_annotations("1 2 3\n1 2\n", Path::new("x.tsv")).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(parse_annotations("1 2 9\n", Path::new("x.tsv")).is_err());
        assert!(parse_annotations("1 NaN 1\n", Path::new("x.tsv")).is_err());
    }
}
