//! The identification block, the header block (HD) and the file history (FH).

use std::io::{Read, Seek};

use serde::Serialize;

use super::block::{Chain, Source};
use super::error::{MdfError, Result};
use super::text::{read_comment, read_text, xml_element};

/// Longest file history this reader walks.
const MAX_HISTORY: usize = 100_000;

/// What the identification block and HD block say about the file.
#[derive(Debug, Clone, Serialize)]
pub struct FileHeader {
    /// Format version as written in the identification block, e.g. "4.10".
    pub version: String,
    /// Version number, e.g. 410.
    pub version_number: u16,
    /// The program that wrote the file (8 characters in the identification block).
    pub program: String,
    /// Start of the measurement, nanoseconds since 1970-01-01 (UTC unless `local_time`).
    pub start_time_ns: u64,
    /// The start time in ISO 8601 (`Z` suffix when it is UTC).
    pub start_time: String,
    /// True when the start time is local time of an unknown zone.
    pub local_time: bool,
    /// Time zone offset in minutes, when the file declares it.
    pub tz_offset_min: Option<i16>,
    /// Daylight saving offset in minutes, when the file declares it.
    pub dst_offset_min: Option<i16>,
    /// The file comment (the `<TX>` of the HD comment).
    pub comment: Option<String>,
    /// The file history (FH blocks), oldest first.
    pub history: Vec<HistoryEntry>,
}

/// One FH block: a tool that created or changed the file.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// When, nanoseconds since 1970-01-01.
    pub time_ns: u64,
    /// When, ISO 8601.
    pub time: String,
    /// `<tool_id>` of the FH comment.
    pub tool: Option<String>,
    /// `<tool_vendor>` of the FH comment.
    pub vendor: Option<String>,
    /// `<tool_version>` of the FH comment.
    pub tool_version: Option<String>,
    /// `<TX>` of the FH comment.
    pub comment: Option<String>,
}

/// Links of the HD block that the reader follows.
pub(crate) struct HeaderLinks {
    pub first_dg: u64,
}

/// Read the identification block at offset 0 and the HD block at offset 64.
pub(crate) fn read_header<R: Read + Seek>(src: &mut Source<R>) -> Result<(FileHeader, HeaderLinks)> {
    let mut id = [0u8; 64];
    src.read_at(0, &mut id, "identification block")?;
    let magic = &id[..8];
    if magic == b"UnFinMF " {
        return Err(MdfError::unsupported(0, "unfinalized MDF file (UnFinMF)"));
    }
    if magic != b"MDF     " {
        return Err(MdfError::BadMagic {
            found: String::from_utf8_lossy(magic).into_owned(),
        });
    }
    let version_number = u16::from_le_bytes([id[28], id[29]]);
    if !(400..500).contains(&version_number) {
        return Err(MdfError::UnsupportedVersion {
            version: version_number,
        });
    }
    let hd = src.block(64, &[b"##HD"], "HD block")?;
    let start_time_ns = hd.u64(0)?;
    let time_flags = hd.u8(12)?;
    let local_time = time_flags & 1 != 0;
    let offsets_valid = time_flags & 2 != 0;
    let header = FileHeader {
        version: trimmed(&id[8..16]),
        version_number,
        program: trimmed(&id[16..24]),
        start_time_ns,
        start_time: iso8601(start_time_ns, !local_time),
        local_time,
        tz_offset_min: offsets_valid.then_some(hd.i16(8)?),
        dst_offset_min: offsets_valid.then_some(hd.i16(10)?),
        comment: read_comment(src, hd.link(5))?,
        history: read_history(src, hd.link(1))?,
    };
    Ok((header, HeaderLinks { first_dg: hd.link(0) }))
}

fn read_history<R: Read + Seek>(src: &mut Source<R>, first: u64) -> Result<Vec<HistoryEntry>> {
    let mut chain = Chain::new("FH chain", MAX_HISTORY);
    let mut entries = Vec::new();
    let mut next = first;
    while next != 0 {
        chain.visit(next)?;
        let fh = src.block(next, &[b"##FH"], "FH block")?;
        let xml = read_text(src, fh.link(1))?.unwrap_or_default();
        let time_ns = fh.u64(0)?;
        entries.push(HistoryEntry {
            time_ns,
            time: iso8601(time_ns, fh.u8(12)? & 1 == 0),
            tool: xml_element(&xml, "tool_id"),
            vendor: xml_element(&xml, "tool_vendor"),
            tool_version: xml_element(&xml, "tool_version"),
            comment: xml_element(&xml, "TX"),
        });
        next = fh.link(0);
    }
    Ok(entries)
}

fn trimmed(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end_matches(['\0', ' ']).to_string()
}

/// Format nanoseconds since the Unix epoch as ISO 8601, with `Z` when `utc`.
pub(crate) fn iso8601(ns: u64, utc: bool) -> String {
    let secs = ns / 1_000_000_000;
    let nanos = ns % 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let zone = if utc { "Z" } else { "" };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}{zone}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_pipeline::ErrorClass;
    use std::io::Cursor;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0, true), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(iso8601(951_782_400_000_000_001, true), "2000-02-29T00:00:00.000000001Z");
        assert_eq!(
            iso8601(1_700_000_000_500_000_000, false),
            "2023-11-14T22:13:20.500000000"
        );
    }

    #[test]
    fn wrong_magic_is_a_permanent_error() -> Result<()> {
        let mut src = Source::new(Cursor::new(vec![b'X'; 200]))?;
        let err = read_header(&mut src).err();
        assert!(matches!(&err, Some(MdfError::BadMagic { .. })));
        assert!(err.is_some_and(|e| e.is_permanent()));
        Ok(())
    }

    #[test]
    fn mdf3_is_unsupported_and_short_files_are_truncated() -> Result<()> {
        let mut f = vec![0u8; 64];
        f[..8].copy_from_slice(b"MDF     ");
        f[28..30].copy_from_slice(&330u16.to_le_bytes());
        let mut src = Source::new(Cursor::new(f))?;
        assert!(matches!(
            read_header(&mut src),
            Err(MdfError::UnsupportedVersion { version: 330 })
        ));
        let mut src = Source::new(Cursor::new(b"MDF ".to_vec()))?;
        assert!(matches!(
            read_header(&mut src),
            Err(MdfError::Truncated { offset: 0, .. })
        ));
        Ok(())
    }
}
