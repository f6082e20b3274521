//! Plate formats as patterns, one symbol class per position.
//!
//! Syntax (OpenALPR's, extended with repetition): `@` a letter, `#` a digit, `?` any symbol
//! of the alphabet, `[ABC]` or `[A-F0-3]` a set, any other alphabet symbol itself; `{n}` or
//! `{n,m}` repeats the element before it; spaces, `-` and `.` only describe the layout and
//! are ignored. `@{1,3}#{1,4}` stands for the 12 fixed-length patterns it expands to.

use crate::plate::error::PlateError;

/// Most fixed-length patterns one written pattern may expand to.
pub const MAX_EXPANSION: usize = 512;
/// Longest plate, in symbols.
pub const MAX_LEN: usize = 16;

/// A fixed-length pattern: a set of alphabet indices (bit i = symbol i) per position.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The pattern as written (before expansion), for the output.
    pub source: String,
    /// One set per position.
    pub sets: Vec<u64>,
    /// Log prior weight, at most 0: each written pattern spreads one unit over its
    /// expansions (`@{1,3}` is three times less likely per length than `@@`); a shape written
    /// by several entries keeps its most specific one.
    pub weight: f32,
}

fn pattern_error(pattern: &str, detail: impl Into<String>) -> PlateError {
    PlateError::Pattern {
        pattern: pattern.to_string(),
        detail: detail.into(),
    }
}

/// An element with its repetition range.
struct Element {
    set: u64,
    min: usize,
    max: usize,
}

/// Parses one written pattern and expands it to fixed-length patterns.
pub fn expand(pattern: &str, alphabet: &[char]) -> Result<Vec<Pattern>, PlateError> {
    let elements = parse(pattern, alphabet)?;
    let mut out: Vec<Vec<u64>> = vec![Vec::new()];
    for e in &elements {
        let mut next = Vec::new();
        for prefix in &out {
            for n in e.min..=e.max {
                let mut p = prefix.clone();
                p.extend(std::iter::repeat_n(e.set, n));
                if p.len() <= MAX_LEN {
                    next.push(p);
                }
            }
        }
        if next.len() > MAX_EXPANSION {
            return Err(pattern_error(
                pattern,
                format!("expands to more than {MAX_EXPANSION} patterns"),
            ));
        }
        out = next;
    }
    out.retain(|p| !p.is_empty());
    if out.is_empty() {
        return Err(pattern_error(
            pattern,
            format!("matches no plate of 1 to {MAX_LEN} symbols"),
        ));
    }
    Ok(out
        .into_iter()
        .map(|sets| Pattern {
            source: pattern.to_string(),
            sets,
            weight: 0.0,
        })
        .collect())
}

fn parse(pattern: &str, alphabet: &[char]) -> Result<Vec<Element>, PlateError> {
    let err = |d: String| pattern_error(pattern, d);
    let bit = |c: char| alphabet.iter().position(|&a| a == c).map(|i| 1u64 << i);
    let class = |f: fn(&char) -> bool| {
        alphabet
            .iter()
            .enumerate()
            .filter(|(_, c)| f(c))
            .fold(0, |m, (i, _)| m | 1 << i)
    };
    let (letters, digits) = (class(|c| c.is_alphabetic()), class(|c| c.is_numeric()));
    let any = class(|_| true);
    let chars: Vec<char> = pattern.chars().collect();
    let mut out: Vec<Element> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let set = match c {
            ' ' | '-' | '.' => {
                i += 1;
                continue;
            }
            '@' => letters,
            '#' => digits,
            '?' => any,
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| x == ']')
                    .ok_or_else(|| err("`[` without `]`".into()))?;
                let set = parse_set(&chars[i + 1..i + end], &bit).map_err(err)?;
                i += end;
                set
            }
            '{' => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| x == '}')
                    .ok_or_else(|| err("`{` without `}`".into()))?;
                let body: String = chars[i + 1..i + end].iter().collect();
                let last = out.last_mut().ok_or_else(|| err("`{` with nothing to repeat".into()))?;
                (last.min, last.max) = parse_repeat(&body).map_err(err)?;
                i += end + 1;
                continue;
            }
            _ => bit(c).ok_or_else(|| err(format!("`{c}` is not in the alphabet")))?,
        };
        if set == 0 {
            return Err(err(format!("`{c}` matches no symbol of the alphabet")));
        }
        out.push(Element { set, min: 1, max: 1 });
        i += 1;
    }
    Ok(out)
}

fn parse_set(body: &[char], bit: &dyn Fn(char) -> Option<u64>) -> Result<u64, String> {
    let mut set = 0u64;
    let mut j = 0;
    while j < body.len() {
        let (a, b) = if j + 2 < body.len() && body[j + 1] == '-' {
            (body[j], body[j + 2])
        } else {
            (body[j], body[j])
        };
        if a > b {
            return Err(format!("range `{a}-{b}` is reversed"));
        }
        for c in a..=b {
            set |= bit(c).ok_or_else(|| format!("`{c}` is not in the alphabet"))?;
        }
        j += if a == b && body.get(j + 1) != Some(&'-') { 1 } else { 3 };
    }
    if set == 0 {
        return Err("empty set `[]`".into());
    }
    Ok(set)
}

fn parse_repeat(body: &str) -> Result<(usize, usize), String> {
    let num = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| format!("`{{{body}}}` is not {{n}} or {{n,m}}"))
    };
    let (min, max) = match body.split_once(',') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(body)?, num(body)?),
    };
    if min > max || max > MAX_LEN {
        return Err(format!("repetition `{{{body}}}` must have n <= m <= {MAX_LEN}"));
    }
    Ok((min, max))
}

/// Expands many written patterns, merging duplicates (the most specific source's weight,
/// the first source's text) and setting each one's weight.
pub fn expand_all<S: AsRef<str>>(patterns: &[S], alphabet: &[char]) -> Result<Vec<Pattern>, PlateError> {
    let mut out: Vec<Pattern> = Vec::new();
    let mut mass: Vec<f32> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for p in patterns {
        let expanded = expand(p.as_ref(), alphabet)?;
        let share = 1.0 / expanded.len() as f32;
        for e in expanded {
            let i = *index.entry(e.sets.clone()).or_insert_with(|| {
                out.push(e);
                mass.push(0.0);
                out.len() - 1
            });
            mass[i] = mass[i].max(share);
        }
    }
    let top = mass.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    for (p, m) in out.iter_mut().zip(&mass) {
        p.weight = (m / top).ln();
    }
    Ok(out)
}

/// Look-alike pairs (`["0O", "1I"]`) as alphabet index pairs.
pub fn twins<S: AsRef<str>>(pairs: &[S], alphabet: &[char]) -> Result<Vec<(u8, u8)>, PlateError> {
    let index = |c: char| alphabet.iter().position(|&a| a == c).map(|i| i as u8);
    pairs
        .iter()
        .map(|p| {
            let chars: Vec<char> = p.as_ref().chars().collect();
            match chars[..] {
                [a, b] if a != b => index(a).zip(index(b)),
                _ => None,
            }
            .ok_or_else(|| PlateError::InvalidParam {
                name: "read.twins",
                detail: format!("`{}` is not two different symbols of the alphabet", p.as_ref()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abc() -> Vec<char> {
        crate::plate::read::charset::DEFAULT_ALPHABET.chars().collect()
    }

    #[test]
    fn letters_digits_sets_and_literals_become_position_sets() {
        let a = abc();
        let p = expand("@@ ###-[A-C]7", &a).expect("parse");
        assert_eq!(p.len(), 1);
        let s = &p[0].sets;
        assert_eq!(s.len(), 7);
        assert_eq!(s[0].count_ones(), 26);
        assert_eq!(s[2].count_ones(), 10);
        assert_eq!(s[5], 0b111 << 10);
        assert_eq!(s[6], 1 << 7);
    }

    #[test]
    fn repetition_expands_to_every_length() {
        let p = expand("@{1,3}#{1,4}", &abc()).expect("parse");
        assert_eq!(p.len(), 12);
        assert!(p.iter().any(|q| q.sets.len() == 2) && p.iter().any(|q| q.sets.len() == 7));
    }

    #[test]
    fn a_pattern_spread_over_expansions_weighs_less_per_shape() {
        let p = expand_all(&["@@###@@", "@@ ### @@", "@{1,2}#{3,4}@@"], &abc()).expect("parse");
        assert_eq!(p.len(), 4, "the duplicate shape is merged");
        assert_eq!(p[0].weight, 0.0);
        assert!((p[1].weight - 0.25f32.ln()).abs() < 1e-6, "{}", p[1].weight);
        assert_eq!(twins(&["0O"], &abc()).expect("pair"), vec![(0, 24)]);
        assert!(twins(&["00"], &abc()).is_err());
    }

    #[test]
    fn bad_patterns_name_the_problem() {
        let a = abc();
        for (bad, why) in [
            ("@[AB", "without"),
            ("{2}", "nothing to repeat"),
            ("#{3,1}", "n <= m"),
            ("é", "not in the alphabet"),
            ("?{0}", "matches no plate"),
        ] {
            let e = expand(bad, &a).expect_err(bad).to_string();
            assert!(e.contains(why) && e.contains(bad), "{bad}: {e}");
        }
    }
}
