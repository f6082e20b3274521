//! The records stage on files built byte by byte: values, CSV, CRCs and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::Result;
use haul_pipeline::ErrorClass;
use haul_stages::records::{RecordLayout, RecordsError, parse_file};

const LAYOUT: &str = r#"
    magic = "HREC"
    count_field = "count"
    crc32 = "record"
    header = [
      { name = "version", type = "u16" },
      { name = "device", type = "bytes", len = 4 },
      { name = "count", type = "u32" },
    ]
    fields = [
      { name = "t_ms", type = "u32" },
      { name = "temp", type = "i16", scale = 0.01, unit = "degC" },
      { type = "pad", len = 2 },
      { name = "pressure", type = "f32", endian = "big", unit = "bar" },
    ]
"#;

fn record(t: u32, temp: i16, pressure: f32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&t.to_le_bytes());
    r.extend_from_slice(&temp.to_le_bytes());
    r.extend_from_slice(&[0xaa, 0xbb]);
    r.extend_from_slice(&pressure.to_be_bytes());
    let crc = crc32fast::hash(&r);
    r.extend_from_slice(&crc.to_le_bytes());
    r
}

fn file(records: &[Vec<u8>], count: u32) -> Vec<u8> {
    let mut f = b"HREC".to_vec();
    f.extend_from_slice(&3u16.to_le_bytes());
    f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    f.extend_from_slice(&count.to_le_bytes());
    for r in records {
        f.extend_from_slice(r);
    }
    f
}

fn parse(layout: &str, bytes: &[u8]) -> Result<(Result<haul_stages::records::RecordsSummary, RecordsError>, String)> {
    let layout: RecordLayout = toml::from_str(layout)?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.bin");
    let csv = dir.path().join("out.csv");
    std::fs::write(&input, bytes)?;
    let result = parse_file(&input, &layout, &csv);
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    Ok((result, text))
}

#[test]
fn declared_records_become_csv_rows_and_statistics() -> Result<()> {
    let recs = vec![record(0, 2150, 1.5), record(100, -50, 2.0), record(200, 1000, 0.25)];
    let (result, csv) = parse(LAYOUT, &file(&recs, 3))?;
    let summary = result?;
    assert_eq!(csv, "t_ms,temp,pressure\n0,21.5,1.5\n100,-0.5,2.0\n200,10.0,0.25\n");
    assert_eq!(summary.records, 3);
    assert_eq!(summary.record_bytes, 16);
    assert_eq!(summary.header[1].value, serde_json::json!("deadbeef"));
    assert_eq!(summary.header[2].value, serde_json::json!(3));
    let temp = &summary.fields[1];
    assert_eq!(
        (temp.min, temp.max, temp.unit.as_deref()),
        (Some(-0.5), Some(21.5), Some("degC"))
    );
    assert_eq!(summary.fields[2].mean, Some(1.25));
    assert_eq!(summary.fields.len(), 3);
    Ok(())
}

#[test]
fn a_record_crc_mismatch_names_the_record_offset_or_is_skipped() -> Result<()> {
    let mut recs = vec![record(0, 1, 1.0), record(1, 2, 2.0)];
    recs[1][0] ^= 1;
    let bytes = file(&recs, 2);
    let (result, _) = parse(LAYOUT, &bytes)?;
    let err = result.err();
    assert!(matches!(err, Some(RecordsError::Crc { offset: 30, .. })), "{err:?}");
    assert!(err.is_some_and(|e| e.is_permanent() && e.to_string().contains("30")));
    let skip = format!("on_crc_mismatch = \"skip\"\n{LAYOUT}");
    let (result, csv) = parse(&skip, &bytes)?;
    let summary = result?;
    assert_eq!((summary.records, summary.crc_failures), (1, 1));
    assert_eq!(csv.lines().count(), 2);
    Ok(())
}

#[test]
fn bad_input_is_a_permanent_error_naming_the_offset() -> Result<()> {
    let good = file(&[record(0, 1, 1.0), record(1, 2, 2.0)], 2);
    let (result, _) = parse(LAYOUT, &good[..good.len() - 3])?;
    assert!(
        matches!(result, Err(RecordsError::AbsurdCount { offset: 10, .. })),
        "{result:?}"
    );
    let (result, _) = parse(LAYOUT, &file(&[record(0, 1, 1.0)], 1_000_000_000))?;
    assert!(matches!(result, Err(RecordsError::AbsurdCount { .. })));
    let mut extra = good.clone();
    extra.push(0);
    let (result, _) = parse(LAYOUT, &extra)?;
    assert!(
        matches!(result, Err(RecordsError::TrailingData { offset: 46, bytes: 1 })),
        "{result:?}"
    );
    let mut wrong = good.clone();
    wrong[0] = b'X';
    let (result, _) = parse(LAYOUT, &wrong)?;
    assert!(matches!(result, Err(RecordsError::BadMagic { .. })));
    let (result, _) = parse(LAYOUT, b"HR")?;
    assert!(matches!(result, Err(RecordsError::BadMagic { .. })));
    let (result, _) = parse(LAYOUT, b"HREC\x03\x00")?;
    assert!(
        matches!(result, Err(RecordsError::Truncated { offset: 6, .. })),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn records_without_a_count_run_to_the_end_and_a_partial_one_is_truncation() -> Result<()> {
    let layout = "endian = \"big\"\nfields = [{ name = \"a\", type = \"u16\" }, { name = \"b\", type = \"i8\" }]";
    let (result, csv) = parse(layout, &[0, 1, 0xff, 1, 0, 2])?;
    assert_eq!(result?.records, 2);
    assert_eq!(csv, "a,b\n1,-1\n256,2\n");
    let (result, _) = parse(layout, &[0, 1, 0xff, 1])?;
    assert!(
        matches!(
            result,
            Err(RecordsError::Truncated {
                offset: 3,
                needed: 3,
                available: 1,
                ..
            })
        ),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn a_file_crc_covers_everything_before_it() -> Result<()> {
    let layout = "magic = [0x01, 0x02]\ncrc32 = \"file\"\nfields = [{ name = \"v\", type = \"u8\" }]";
    let mut bytes = vec![1u8, 2, 10, 20, 30];
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let (result, csv) = parse(layout, &bytes)?;
    assert_eq!(result?.records, 3);
    assert_eq!(csv, "v\n10\n20\n30\n");
    bytes[3] = 21;
    let (result, _) = parse(layout, &bytes)?;
    assert!(matches!(result, Err(RecordsError::Crc { .. })));
    Ok(())
}
