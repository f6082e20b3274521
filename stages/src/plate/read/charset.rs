//! The model's character list and its folding onto the plate alphabet.
//!
//! A CTC recogniser outputs one class per character of its list plus the blank (class 0,
//! PaddleOCR's convention), and often a trailing space class. Plates use few symbols, so
//! the classes are folded: every class whose character normalises (full-width forms to
//! ASCII, lower to upper case) to a symbol of the alphabet adds its probability to that
//! symbol; all other classes (punctuation, spaces, other scripts) are gaps, like the blank.

use std::path::Path;

use crate::plate::error::PlateError;

/// The default plate alphabet: digits and Latin capitals.
pub const DEFAULT_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Metadata key under which PaddleOCR exports (and RapidOCR's models) carry the list.
pub const METADATA_KEY: &str = "character";
/// At most this many symbols in an alphabet (pattern positions are 64-bit sets).
pub const MAX_ALPHABET: usize = 63;

/// The model's characters, in class order (class `i + 1` is `chars[i]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charset {
    /// Where the list came from (a path, or `model metadata`), for messages.
    pub source: String,
    /// One entry per line of the list.
    pub chars: Vec<String>,
}

impl Charset {
    /// A list with one character per line (`keys.txt`); a final newline is allowed.
    pub fn parse(text: &str, source: &str) -> Result<Self, PlateError> {
        let body = text.strip_suffix('\n').unwrap_or(text);
        let chars: Vec<String> = body
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        if body.is_empty() || chars.is_empty() {
            return Err(charset_error(source, "the list is empty"));
        }
        if let Some(i) = chars.iter().position(|c| c.is_empty()) {
            return Err(charset_error(source, format!("line {} is empty", i + 1)));
        }
        Ok(Charset {
            source: source.to_string(),
            chars,
        })
    }

    /// Reads a list file.
    pub fn from_file(path: &Path) -> Result<Self, PlateError> {
        let bytes = std::fs::read(path).map_err(|e| PlateError::io(path, e))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| charset_error(&path.display().to_string(), format!("not UTF-8: {e}")))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The label of every output class: blank, the list, and a space when the model has
    /// one more class than the list (PaddleOCR's `use_space_char`).
    pub fn labels(&self, classes: usize) -> Result<Vec<String>, PlateError> {
        let n = self.chars.len();
        let mut labels = Vec::with_capacity(classes);
        labels.push(String::new());
        labels.extend(self.chars.iter().cloned());
        if classes == n + 2 {
            labels.push(" ".into());
        } else if classes != n + 1 {
            return Err(charset_error(
                &self.source,
                format!(
                    "{n} characters do not fit a model with {classes} output classes \
                     (expected {} with the CTC blank, or {} with a space class)",
                    n + 1,
                    n + 2
                ),
            ));
        }
        Ok(labels)
    }
}

fn charset_error(source: &str, detail: impl Into<String>) -> PlateError {
    PlateError::Charset {
        source_name: source.to_string(),
        detail: detail.into(),
    }
}

/// Folds model classes onto an alphabet: `map[class]` is the symbol index, or `None` for a
/// gap (blank, separators, characters a plate does not use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folding {
    /// The plate symbols.
    pub alphabet: Vec<char>,
    /// One entry per model class.
    pub map: Vec<Option<u8>>,
    /// The classes that are symbols, `(class, symbol)`, for summing without a full scan.
    pub symbol_classes: Vec<(u32, u8)>,
}

impl Folding {
    /// The folding of `labels` (from [`Charset::labels`]) onto `alphabet`.
    pub fn new(labels: &[String], alphabet: &str) -> Result<Self, PlateError> {
        let alphabet = parse_alphabet(alphabet)?;
        let map = labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if i == 0 {
                    return None;
                }
                let c = normalise(l)?;
                alphabet.iter().position(|&a| a == c).map(|p| p as u8)
            })
            .collect::<Vec<_>>();
        if map.iter().all(Option::is_none) {
            return Err(charset_error(
                "the model's characters",
                "none of them is in the plate alphabet",
            ));
        }
        let symbol_classes = map
            .iter()
            .enumerate()
            .filter_map(|(c, m)| m.map(|s| (c as u32, s)))
            .collect();
        Ok(Folding {
            alphabet,
            map,
            symbol_classes,
        })
    }

    /// Symbols plus one gap column.
    pub fn width(&self) -> usize {
        self.alphabet.len() + 1
    }
}

/// Checks an alphabet: distinct characters, at most [`MAX_ALPHABET`].
pub fn parse_alphabet(alphabet: &str) -> Result<Vec<char>, PlateError> {
    let bad = |detail: String| PlateError::InvalidParam {
        name: "alphabet",
        detail,
    };
    let chars: Vec<char> = alphabet.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() || chars.len() > MAX_ALPHABET {
        return Err(bad(format!(
            "needs 1 to {MAX_ALPHABET} characters, got {}",
            chars.len()
        )));
    }
    for (i, c) in chars.iter().enumerate() {
        if chars[..i].contains(c) {
            return Err(bad(format!("`{c}` appears twice")));
        }
    }
    Ok(chars)
}

/// One character, full-width forms mapped to ASCII, upper-cased; `None` for longer labels.
fn normalise(label: &str) -> Option<char> {
    let mut it = label.chars();
    let c = it.next()?;
    if it.next().is_some() {
        return None;
    }
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0)?,
        _ => c,
    };
    let mut up = c.to_uppercase();
    let u = up.next()?;
    up.next().is_none().then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_with_a_space_class_fits_one_more_output() {
        let cs = Charset::parse("a\nB\n7\n", "keys.txt").expect("parse");
        assert_eq!(cs.labels(4).expect("blank + 3").len(), 4);
        assert_eq!(cs.labels(5).expect("blank + 3 + space")[4], " ");
        let err = cs.labels(9).expect_err("mismatch");
        assert!(
            err.to_string().contains("3 characters") && err.to_string().contains("9 output classes"),
            "{err}"
        );
    }

    #[test]
    fn empty_lists_and_empty_lines_are_rejected() {
        assert!(Charset::parse("", "k").is_err());
        assert!(
            Charset::parse("a\n\nb", "k")
                .expect_err("empty line")
                .to_string()
                .contains("line 2")
        );
    }

    #[test]
    fn lower_case_and_full_width_fold_onto_the_alphabet_and_the_rest_is_a_gap() {
        let labels: Vec<String> = ["", "a", "Ａ", "７", "-", "皖", "AB"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let f = Folding::new(&labels, DEFAULT_ALPHABET).expect("fold");
        assert_eq!(f.map, vec![None, Some(10), Some(10), Some(7), None, None, None]);
        assert!(parse_alphabet("AA").is_err());
    }
}
