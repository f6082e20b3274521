//! Reading a file with a declared layout: magic, header, records, CRCs; CSV and summary
//! written as the records stream past (memory is one record).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde_json::Value;

use super::error::RecordsError;
use super::layout::{Crc32Mode, Endian, FieldType, OnCrcMismatch, RecordLayout};
use super::output::{Csv, HeaderValue, RecordsSummary};
use super::value::{Acc, Val, decode, hex, physical};

/// Parse `path` with `layout`, writing one CSV row per record to `csv_out`.
pub fn parse_file(path: &Path, layout: &RecordLayout, csv_out: &Path) -> Result<RecordsSummary, RecordsError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    parse_reader(BufReader::with_capacity(256 << 10, file), size, layout, csv_out)
}

/// Parse `size` bytes from `reader` (see [`parse_file`]).
pub fn parse_reader<R: Read>(
    reader: R,
    size: u64,
    layout: &RecordLayout,
    csv_out: &Path,
) -> Result<RecordsSummary, RecordsError> {
    layout.validate()?;
    let crc = crc32fast::Hasher::new();
    let mut input = Input {
        inner: reader,
        pos: 0,
        size,
        crc,
    };
    check_magic(&mut input, layout)?;
    let (header, count_at) = read_header(&mut input, layout)?;
    let crc_len = if layout.crc32 == Crc32Mode::Record { 4 } else { 0 };
    let per = layout.record_len() + crc_len;
    let count = record_count(&input, layout, &header, count_at, per as u64)?;
    let mut csv = Csv::create(csv_out, layout)?;
    let mut stats = vec![Acc::default(); layout.fields.len()];
    let (records, crc_failures) = read_records(&mut input, layout, count, &mut csv, &mut stats)?;
    finish_input(&mut input, layout)?;
    csv.finish()?;
    let fields = layout.fields.iter().zip(&stats);
    let fields = fields
        .filter(|(f, _)| f.kind != FieldType::Pad)
        .map(|(f, a)| a.summary(f));
    let csv = csv_out.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok(RecordsSummary {
        file_size: size,
        header,
        records,
        crc_failures,
        record_bytes: per as u64,
        fields: fields.collect(),
        csv: csv.unwrap_or_default(),
    })
}

/// Read `count` records into the CSV and statistics; returns (records kept, CRC failures).
fn read_records<R: Read>(
    input: &mut Input<R>,
    layout: &RecordLayout,
    count: u64,
    csv: &mut Csv<'_>,
    stats: &mut [Acc],
) -> Result<(u64, u64), RecordsError> {
    let crc_len = if layout.crc32 == Crc32Mode::Record { 4 } else { 0 };
    let mut record = vec![0u8; layout.record_len() + crc_len];
    let (mut records, mut crc_failures) = (0, 0);
    for i in 0..count {
        // Every 4096 records: stop if the attempt ran out of time.
        if i % 4096 == 0 && haul_pipeline::cancel::cancelled() {
            return Err(RecordsError::Cancelled);
        }
        let at = input.pos;
        input.read(&mut record, "record")?;
        if crc_len > 0 && !record_crc_ok(&record, layout, at)? {
            crc_failures += 1;
            continue;
        }
        let mut first = true;
        let mut pos = 0;
        for (spec, acc) in layout.fields.iter().zip(stats.iter_mut()) {
            let bytes = record.get(pos..pos + spec.size()).unwrap_or(&[]);
            pos += spec.size();
            if spec.kind == FieldType::Pad {
                continue;
            }
            let v = physical(spec, decode(spec, bytes, layout.endian));
            acc.add(v);
            csv.cell(first, v);
            first = false;
        }
        csv.end_row()?;
        records += 1;
    }
    Ok((records, crc_failures))
}

/// The input with its position and a running CRC of everything read.
struct Input<R> {
    inner: R,
    pos: u64,
    size: u64,
    crc: crc32fast::Hasher,
}

impl<R: Read> Input<R> {
    fn read(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), RecordsError> {
        let available = self.size.saturating_sub(self.pos);
        if (buf.len() as u64) > available {
            return Err(RecordsError::Truncated {
                offset: self.pos,
                what,
                needed: buf.len() as u64,
                available,
            });
        }
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => RecordsError::Truncated {
                offset: self.pos,
                what,
                needed: buf.len() as u64,
                available,
            },
            _ => RecordsError::Io(e),
        })?;
        self.crc.update(buf);
        self.pos += buf.len() as u64;
        Ok(())
    }
}

fn check_magic<R: Read>(input: &mut Input<R>, layout: &RecordLayout) -> Result<(), RecordsError> {
    let Some(magic) = &layout.magic else {
        return Ok(());
    };
    let expected = magic.bytes();
    let mut found = vec![0u8; expected.len()];
    let available = input.size.min(expected.len() as u64) as usize;
    input.read(&mut found[..available], "magic")?;
    if found[..available] != *expected {
        return Err(RecordsError::BadMagic {
            expected: hex(expected),
            found: hex(&found[..available]),
        });
    }
    Ok(())
}

fn read_header<R: Read>(input: &mut Input<R>, layout: &RecordLayout) -> Result<(Vec<HeaderValue>, u64), RecordsError> {
    let mut values = Vec::new();
    let mut count_at = 0;
    for spec in &layout.header {
        let mut bytes = vec![0u8; spec.size()];
        if layout.count_field.as_deref() == Some(spec.name.as_str()) {
            count_at = input.pos;
        }
        input.read(&mut bytes, "header field")?;
        if spec.kind == FieldType::Pad {
            continue;
        }
        let value = match physical(spec, decode(spec, &bytes, layout.endian)) {
            Val::U(v) => Value::from(v),
            Val::I(v) => Value::from(v),
            Val::F(v) => Value::from(v),
            Val::Bytes(b) => Value::from(hex(b)),
        };
        values.push(HeaderValue {
            name: spec.name.clone(),
            value,
            unit: spec.unit.clone(),
        });
    }
    Ok((values, count_at))
}

/// How many records to read, checked against the bytes left.
fn record_count<R>(
    input: &Input<R>,
    layout: &RecordLayout,
    header: &[HeaderValue],
    count_at: u64,
    per: u64,
) -> Result<u64, RecordsError> {
    let trailer = if layout.crc32 == Crc32Mode::File { 4 } else { 0 };
    let body = input
        .size
        .saturating_sub(input.pos)
        .checked_sub(trailer)
        .ok_or(RecordsError::Truncated {
            offset: input.pos,
            what: "file CRC",
            needed: trailer,
            available: input.size.saturating_sub(input.pos),
        })?;
    let Some(name) = &layout.count_field else {
        if body % per != 0 {
            let offset = input.pos + body / per * per;
            return Err(RecordsError::Truncated {
                offset,
                what: "record",
                needed: per,
                available: body % per,
            });
        }
        return Ok(body / per);
    };
    let declared = header.iter().find(|h| &h.name == name).map(|h| &h.value);
    let count = declared.and_then(Value::as_u64);
    match count {
        Some(count) if count.checked_mul(per).is_some_and(|n| n <= body) => {
            if count * per < body {
                return Err(RecordsError::TrailingData {
                    offset: input.pos + count * per,
                    bytes: body - count * per,
                });
            }
            Ok(count)
        }
        _ => Err(RecordsError::AbsurdCount {
            offset: count_at,
            count: count.unwrap_or(u64::MAX),
            record_len: per,
            available: body,
        }),
    }
}

fn record_crc_ok(record: &[u8], layout: &RecordLayout, at: u64) -> Result<bool, RecordsError> {
    let (data, tail) = record.split_at(record.len() - 4);
    let stored = u32_in(tail, layout.endian);
    let computed = crc32fast::hash(data);
    if stored == computed {
        return Ok(true);
    }
    match layout.on_crc_mismatch {
        OnCrcMismatch::Skip => Ok(false),
        OnCrcMismatch::Fail => Err(RecordsError::Crc {
            offset: at,
            stored,
            computed,
        }),
    }
}

fn finish_input<R: Read>(input: &mut Input<R>, layout: &RecordLayout) -> Result<(), RecordsError> {
    if layout.crc32 != Crc32Mode::File {
        return Ok(());
    }
    let computed = input.crc.clone().finalize();
    let mut tail = [0u8; 4];
    input.read(&mut tail, "file CRC")?;
    let stored = u32_in(&tail, layout.endian);
    if stored != computed {
        return Err(RecordsError::Crc {
            offset: 0,
            stored,
            computed,
        });
    }
    Ok(())
}

fn u32_in(b: &[u8], endian: Endian) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    match endian {
        Endian::Little => u32::from_le_bytes(w),
        Endian::Big => u32::from_be_bytes(w),
    }
}
