//! Bad MDF input is a permanent error naming an offset: never a panic, never a huge
//! allocation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use anyhow::Result;
use haul_pipeline::ErrorClass;
use haul_stages::mdf::write::{BlockWriter, ChannelSpec};
use haul_stages::mdf::{MdfError, summarize};

fn fixture(name: &str) -> Result<Vec<u8>> {
    Ok(std::fs::read(format!(
        "{}/../tests/fixtures/mdf/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))?)
}

fn read(bytes: Vec<u8>) -> Result<haul_stages::mdf::MdfSummary, MdfError> {
    summarize(Cursor::new(bytes), None)
}

/// One group with one u8 channel and `records` records in a DT block.
fn small_file(records: u64, data: &[u8]) -> (BlockWriter, u64, u64, u64) {
    let mut w = BlockWriter::new();
    let cn = w.cn(
        0,
        &ChannelSpec {
            name: "x".into(),
            bit_count: 8,
            ..Default::default()
        },
    );
    let cg = w.cg(0, cn, 0, records, 1, 0);
    let dt = w.dt(data);
    let dg = w.dg(0, cg, dt, 0);
    w.set_first_dg(dg);
    (w, dg, cg, cn)
}

fn assert_permanent(result: Result<haul_stages::mdf::MdfSummary, MdfError>, offset: Option<u64>) {
    match result {
        Err(e) => {
            assert!(e.is_permanent(), "{e}");
            if let Some(o) = offset {
                assert_eq!(e.offset(), Some(o), "{e}");
                assert!(e.to_string().contains(&o.to_string()), "{e}");
            }
        }
        Ok(_) => panic!("bad input accepted"),
    }
}

#[test]
fn a_small_valid_file_reads() -> Result<()> {
    let (w, ..) = small_file(3, &[1, 2, 3]);
    let summary = read(w.finish())?;
    assert_eq!(summary.channel_groups[0].channels[0].mean, Some(2.0));
    Ok(())
}

#[test]
fn every_truncation_of_a_fixture_is_a_permanent_error() -> Result<()> {
    for name in [
        "raw_bits.mf4",
        "raw_unsorted.mf4",
        "raw_conversions.mf4",
        "asammdf_transposed.mf4",
    ] {
        let bytes = fixture(name)?;
        let cuts = (0..bytes.len().min(4096)).chain((4096..bytes.len()).step_by(97));
        for cut in cuts {
            let result = read(bytes[..cut].to_vec());
            assert!(
                result.as_ref().err().is_some_and(MdfError::is_permanent),
                "{name} cut at {cut}: {:?}",
                result.err()
            );
        }
    }
    Ok(())
}

#[test]
fn corrupted_fixtures_never_panic() -> Result<()> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in ["raw_bits.mf4", "raw_unsorted.mf4", "raw_conversions.mf4"] {
        let original = fixture(name)?;
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            if let Err(e) = read(bytes) {
                assert!(e.is_permanent(), "{e}");
            }
        }
    }
    Ok(())
}

#[test]
fn wrong_magic_and_empty_files_are_rejected() {
    assert_permanent(
        read(b"NOT AN MDF FILE AT ALL, JUST TEXT.....................................".to_vec()),
        Some(0),
    );
    assert_permanent(read(Vec::new()), Some(0));
}

#[test]
fn a_data_group_loop_is_a_link_loop() {
    let (mut w, dg, ..) = small_file(1, &[1]);
    w.patch_link(dg, 0, dg);
    let result = read(w.finish());
    assert!(matches!(result, Err(MdfError::LinkLoop { offset, .. }) if offset == dg));
}

#[test]
fn a_channel_loop_is_a_link_loop() {
    let (mut w, _, _, cn) = small_file(1, &[1]);
    w.patch_link(cn, 0, cn);
    assert_permanent(read(w.finish()), Some(cn));
}

#[test]
fn a_link_outside_the_file_names_where_it_is_stored() {
    let (mut w, dg, ..) = small_file(1, &[1]);
    w.patch_link(dg, 1, 1 << 40);
    assert_permanent(read(w.finish()), Some(dg + 24 + 8));
}

#[test]
fn a_record_count_beyond_the_data_is_truncation() {
    let (w, ..) = small_file(1_000_000_000_000, &[1, 2, 3]);
    let result = read(w.finish());
    assert!(matches!(result, Err(MdfError::Truncated { .. })), "{result:?}");
}

#[test]
fn an_absurd_record_size_is_rejected_before_allocating() {
    let mut w = BlockWriter::new();
    let cg = w.cg(0, 0, 0, 1, u32::MAX, u32::MAX);
    let dg = w.dg(0, cg, 0, 0);
    w.set_first_dg(dg);
    let result = read(w.finish());
    assert!(
        matches!(result, Err(MdfError::AbsurdSize { offset, .. }) if offset == cg),
        "{result:?}"
    );
}

#[test]
fn an_absurd_dz_size_is_rejected_before_allocating() {
    let (mut w, dg, ..) = small_file(1, &[1]);
    let dz = w.dz(&[1], 0, 1);
    w.patch_link(dg, 2, dz);
    let mut bytes = w.finish();
    let org_len = dz as usize + 24 + 8;
    bytes[org_len..org_len + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_permanent(read(bytes), Some(dz));
}

#[test]
fn a_channel_outside_its_record_is_invalid() {
    let mut w = BlockWriter::new();
    let cn = w.cn(
        0,
        &ChannelSpec {
            name: "x".into(),
            byte_offset: 7,
            bit_count: 16,
            ..Default::default()
        },
    );
    let cg = w.cg(0, cn, 0, 1, 4, 0);
    let dt = w.dt(&[0; 4]);
    let dg = w.dg(0, cg, dt, 0);
    w.set_first_dg(dg);
    assert_permanent(read(w.finish()), Some(cn));
}

#[test]
fn an_unknown_record_id_in_unsorted_data_is_invalid() {
    let mut w = BlockWriter::new();
    let cn = w.cn(
        0,
        &ChannelSpec {
            name: "x".into(),
            bit_count: 8,
            ..Default::default()
        },
    );
    let cg2 = w.cg(0, cn, 2, 1, 1, 0);
    let cg1 = w.cg(cg2, cn, 1, 1, 1, 0);
    let dt = w.dt(&[1, 10, 9, 20]);
    let dg = w.dg(0, cg1, dt, 1);
    w.set_first_dg(dg);
    let result = read(w.finish());
    assert!(
        matches!(&result, Err(MdfError::Invalid { offset, reason }) if *offset == dt && reason.contains("record id 9")),
        "{result:?}"
    );
}
