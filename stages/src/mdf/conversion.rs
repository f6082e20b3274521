//! Channel conversions (CC blocks): raw value to physical value or text.

use std::io::{Read, Seek};

use super::block::{Block, Source};
use super::error::{MdfError, Result};
use super::text::{read_comment, read_text};

/// How deep conversions may nest (a value-to-text entry may itself be a conversion).
const MAX_DEPTH: usize = 4;

/// A physical value after conversion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Phys<'a> {
    /// An unsigned integer kept exact (identity conversion of an unsigned channel).
    UInt(u64),
    /// A signed integer kept exact (identity conversion of a signed channel).
    Int(i64),
    /// A floating point value.
    Float(f64),
    /// Text from a value-to-text conversion.
    Text(&'a str),
    /// Raw bytes of a byte-array channel.
    Bytes(&'a [u8]),
}

impl Phys<'_> {
    /// The value as a number, `None` for text and bytes.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match *self {
            Phys::UInt(v) => Some(v as f64),
            Phys::Int(v) => Some(v as f64),
            Phys::Float(v) => Some(v),
            Phys::Text(_) | Phys::Bytes(_) => None,
        }
    }
}

/// The result of a value-to-text entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TextRef {
    /// A fixed text.
    Text(String),
    /// A nested conversion applied to the raw value.
    Scale(Box<Conversion>),
    /// A nil link: the raw value passes through.
    Identity,
}

/// A parsed conversion rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Conversion {
    Identity,
    /// `a * x + b`.
    Linear {
        a: f64,
        b: f64,
    },
    /// `(p1 x² + p2 x + p3) / (p4 x² + p5 x + p6)`.
    Rational([f64; 6]),
    /// Lookup table (keys sorted), interpolated or nearest key.
    Table {
        keys: Vec<f64>,
        values: Vec<f64>,
        interpolate: bool,
    },
    /// Value ranges to values, with a default.
    RangeToValue {
        ranges: Vec<(f64, f64, f64)>,
        default: f64,
    },
    /// Exact keys to texts, with a default.
    ValueToText {
        keys: Vec<f64>,
        texts: Vec<TextRef>,
        default: TextRef,
    },
    /// Key ranges to texts, with a default.
    RangeToText {
        ranges: Vec<(f64, f64)>,
        texts: Vec<TextRef>,
        default: TextRef,
    },
    /// A conversion this reader does not apply (algebraic, text-to-value, ...): raw values
    /// pass through unchanged.
    NotApplied {
        cc_type: u8,
    },
}

/// A conversion and the unit that its CC block declares.
pub(crate) struct ParsedConversion {
    pub conversion: Conversion,
    pub unit: Option<String>,
}

/// Read the CC block at `link` (nil = identity).
pub(crate) fn read_conversion<R: Read + Seek>(src: &mut Source<R>, link: u64) -> Result<ParsedConversion> {
    if link == 0 {
        return Ok(ParsedConversion {
            conversion: Conversion::Identity,
            unit: None,
        });
    }
    let block = src.block(link, &[b"##CC"], "CC block")?;
    let unit = read_comment(src, block.link(1))?;
    let conversion = parse(src, &block, 0)?;
    Ok(ParsedConversion { conversion, unit })
}

fn parse<R: Read + Seek>(src: &mut Source<R>, cc: &Block, depth: usize) -> Result<Conversion> {
    let cc_type = cc.u8(0)?;
    let ref_count = usize::from(cc.u16(4)?);
    let val_count = usize::from(cc.u16(6)?);
    if cc.links.len() < 4 + ref_count {
        return Err(MdfError::invalid(
            cc.offset(),
            format!("CC declares {ref_count} references but has {} links", cc.links.len()),
        ));
    }
    let vals = (0..val_count)
        .map(|i| cc.f64(24 + 8 * i))
        .collect::<Result<Vec<f64>>>()?;
    let need = |n: usize| -> Result<()> {
        if vals.len() < n {
            return Err(MdfError::invalid(
                cc.offset(),
                format!("CC type {cc_type} needs {n} values, has {}", vals.len()),
            ));
        }
        Ok(())
    };
    let conversion = match cc_type {
        0 => Conversion::Identity,
        1 => {
            need(2)?;
            Conversion::Linear { a: vals[1], b: vals[0] }
        }
        2 => {
            need(6)?;
            Conversion::Rational([vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]])
        }
        4 | 5 => table(vals, cc_type == 4),
        6 => {
            need(1)?;
            let ranges = vals[..vals.len() - 1]
                .chunks_exact(3)
                .map(|c| (c[0], c[1], c[2]))
                .collect();
            Conversion::RangeToValue {
                ranges,
                default: vals[vals.len() - 1],
            }
        }
        7 | 8 => text_table(src, cc, vals, ref_count, depth)?,
        other => Conversion::NotApplied { cc_type: other },
    };
    Ok(conversion)
}

fn table(vals: Vec<f64>, interpolate: bool) -> Conversion {
    let mut pairs: Vec<(f64, f64)> = vals.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (keys, values) = pairs.into_iter().unzip();
    Conversion::Table {
        keys,
        values,
        interpolate,
    }
}

fn text_table<R: Read + Seek>(
    src: &mut Source<R>,
    cc: &Block,
    vals: Vec<f64>,
    refs: usize,
    depth: usize,
) -> Result<Conversion> {
    let cc_type = cc.u8(0)?;
    let entries = if cc_type == 7 { vals.len() } else { vals.len() / 2 };
    if refs != entries + 1 {
        return Err(MdfError::invalid(
            cc.offset(),
            format!(
                "CC type {cc_type}: {entries} entries need {} references, found {refs}",
                entries + 1
            ),
        ));
    }
    let mut texts = Vec::with_capacity(entries + 1);
    for i in 0..=entries {
        texts.push(text_ref(src, cc.link(4 + i), depth)?);
    }
    let default = texts.pop().unwrap_or(TextRef::Identity);
    Ok(if cc_type == 7 {
        Conversion::ValueToText {
            keys: vals,
            texts,
            default,
        }
    } else {
        let ranges = vals.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        Conversion::RangeToText { ranges, texts, default }
    })
}

fn text_ref<R: Read + Seek>(src: &mut Source<R>, link: u64, depth: usize) -> Result<TextRef> {
    if link == 0 {
        return Ok(TextRef::Identity);
    }
    let header = src.header(link, &[b"##TX", b"##MD", b"##CC"], "TX or CC block")?;
    if header.id == *b"##CC" {
        if depth + 1 >= MAX_DEPTH {
            return Err(MdfError::invalid(link, "conversions nested too deep"));
        }
        let block = src.block(link, &[b"##CC"], "CC block")?;
        return Ok(TextRef::Scale(Box::new(parse(src, &block, depth + 1)?)));
    }
    Ok(TextRef::Text(read_text(src, link)?.unwrap_or_default()))
}
