//! A minimal MDF4 writer: enough to build test files, fuzz seeds and benchmark inputs.
//! It writes blocks as asked and checks nothing; the reader is what is under test.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::ZlibEncoder;

use super::zip::transpose;

/// Appends MDF4 blocks to an in-memory file that starts with an identification block and
/// an empty HD block at offset 64.
pub struct BlockWriter {
    buf: Vec<u8>,
}

/// Offset of the HD block.
pub const HD: u64 = 64;

/// A channel to write with [`BlockWriter::cn`].
#[derive(Debug, Clone, Default)]
pub struct ChannelSpec {
    /// Channel name.
    pub name: String,
    /// cn_type: 0 value, 2 master, 3 virtual master.
    pub cn_type: u8,
    /// cn_sync_type: 1 time for masters.
    pub sync_type: u8,
    /// cn_data_type (0 u LE, 1 u BE, 2 i LE, 3 i BE, 4 f LE, 5 f BE, 7 UTF-8, 10 bytes).
    pub data_type: u8,
    /// Bit offset 0..=7.
    pub bit_offset: u8,
    /// Byte offset in the record (after the record id).
    pub byte_offset: u32,
    /// Bit count.
    pub bit_count: u32,
    /// Invalidation bit position, if any.
    pub inval_bit: Option<u32>,
    /// Link to a CC block (0 = none).
    pub conversion: u64,
    /// Link to a unit TX block (0 = none).
    pub unit: u64,
}

impl Default for BlockWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockWriter {
    /// A file with the identification block (version 4.10) and an HD block.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(b"MDF     4.10    haultest");
        buf.resize(28, 0);
        buf.extend_from_slice(&410u16.to_le_bytes());
        buf.resize(64, 0);
        let mut w = BlockWriter { buf };
        let mut hd = vec![0u8; 32];
        hd[..8].copy_from_slice(&1_700_000_000_000_000_000u64.to_le_bytes());
        hd[12] = 2;
        w.block(b"##HD", &[0; 6], &hd);
        w
    }

    /// Append a block (8-byte aligned) and return its offset.
    pub fn block(&mut self, id: &[u8; 4], links: &[u64], data: &[u8]) -> u64 {
        self.buf.resize(self.buf.len().next_multiple_of(8), 0);
        let at = self.buf.len() as u64;
        self.buf.extend_from_slice(id);
        self.buf.extend_from_slice(&[0; 4]);
        let length = 24 + 8 * links.len() as u64 + data.len() as u64;
        self.buf.extend_from_slice(&length.to_le_bytes());
        self.buf.extend_from_slice(&(links.len() as u64).to_le_bytes());
        for l in links {
            self.buf.extend_from_slice(&l.to_le_bytes());
        }
        self.buf.extend_from_slice(data);
        at
    }

    /// Overwrite link `i` of the block at `block`.
    pub fn patch_link(&mut self, block: u64, i: usize, target: u64) {
        let at = block as usize + 24 + 8 * i;
        if let Some(slot) = self.buf.get_mut(at..at + 8) {
            slot.copy_from_slice(&target.to_le_bytes());
        }
    }

    /// A TX block.
    pub fn tx(&mut self, text: &str) -> u64 {
        let mut data = text.as_bytes().to_vec();
        data.push(0);
        self.block(b"##TX", &[], &data)
    }

    /// A DT block.
    pub fn dt(&mut self, records: &[u8]) -> u64 {
        self.block(b"##DT", &[], records)
    }

    /// A DZ block of DT data: zip type 0 (deflate) or 1 (transposed, `columns` = record size).
    pub fn dz(&mut self, records: &[u8], zip_type: u8, columns: u32) -> u64 {
        let plain = if zip_type == 1 {
            transpose(records, columns as usize)
        } else {
            records.to_vec()
        };
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let _ = enc.write_all(&plain);
        let zipped = enc.finish().unwrap_or_default();
        let mut data = Vec::with_capacity(24 + zipped.len());
        data.extend_from_slice(b"DT");
        data.push(zip_type);
        data.push(0);
        data.extend_from_slice(&columns.to_le_bytes());
        data.extend_from_slice(&(records.len() as u64).to_le_bytes());
        data.extend_from_slice(&(zipped.len() as u64).to_le_bytes());
        data.extend_from_slice(&zipped);
        self.block(b"##DZ", &[], &data)
    }

    /// A DL block listing `blocks`, followed by `next`.
    pub fn dl(&mut self, next: u64, blocks: &[u64]) -> u64 {
        let mut links = vec![next];
        links.extend_from_slice(blocks);
        let mut data = vec![0u8; 8];
        data[4..8].copy_from_slice(&(blocks.len() as u32).to_le_bytes());
        data.extend(std::iter::repeat_n(0u8, 8 * blocks.len()));
        self.block(b"##DL", &links, &data)
    }

    /// An HL block over the DL chain starting at `first_dl`.
    pub fn hl(&mut self, first_dl: u64) -> u64 {
        self.block(b"##HL", &[first_dl], &[0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// A CC block of `cc_type` with values and references.
    pub fn cc(&mut self, cc_type: u8, vals: &[f64], refs: &[u64]) -> u64 {
        let mut links = vec![0u64; 4];
        links.extend_from_slice(refs);
        let mut data = vec![cc_type, 0, 0, 0];
        data.extend_from_slice(&(refs.len() as u16).to_le_bytes());
        data.extend_from_slice(&(vals.len() as u16).to_le_bytes());
        data.extend_from_slice(&[0u8; 16]);
        for v in vals {
            data.extend_from_slice(&v.to_le_bytes());
        }
        self.block(b"##CC", &links, &data)
    }

    /// A CN block followed by `next`.
    pub fn cn(&mut self, next: u64, spec: &ChannelSpec) -> u64 {
        let name = self.tx(&spec.name);
        let mut data = vec![spec.cn_type, spec.sync_type, spec.data_type, spec.bit_offset];
        data.extend_from_slice(&spec.byte_offset.to_le_bytes());
        data.extend_from_slice(&spec.bit_count.to_le_bytes());
        let flags: u32 = if spec.inval_bit.is_some() { 2 } else { 0 };
        data.extend_from_slice(&flags.to_le_bytes());
        data.extend_from_slice(&spec.inval_bit.unwrap_or(0).to_le_bytes());
        data.resize(72, 0);
        self.block(b"##CN", &[next, 0, name, 0, spec.conversion, 0, spec.unit, 0], &data)
    }

    /// A CG block followed by `next`.
    pub fn cg(
        &mut self,
        next: u64,
        first_cn: u64,
        record_id: u64,
        cycles: u64,
        data_bytes: u32,
        inval_bytes: u32,
    ) -> u64 {
        let mut data = Vec::with_capacity(32);
        data.extend_from_slice(&record_id.to_le_bytes());
        data.extend_from_slice(&cycles.to_le_bytes());
        data.extend_from_slice(&[0u8; 8]);
        data.extend_from_slice(&data_bytes.to_le_bytes());
        data.extend_from_slice(&inval_bytes.to_le_bytes());
        self.block(b"##CG", &[next, first_cn, 0, 0, 0, 0], &data)
    }

    /// A DG block followed by `next`, linked from the HD block when it is the first.
    pub fn dg(&mut self, next: u64, first_cg: u64, data: u64, rec_id_size: u8) -> u64 {
        self.block(b"##DG", &[next, first_cg, data, 0], &[rec_id_size, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Link the first data group from the HD block.
    pub fn set_first_dg(&mut self, dg: u64) {
        self.patch_link(HD, 0, dg);
    }

    /// Current length (the offset the next unaligned byte would take).
    pub fn len(&self) -> u64 {
        self.buf.len() as u64
    }

    /// True when nothing but the identification block was written (never, after `new`).
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= 64
    }

    /// The file bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Write a sorted, uncompressed MDF4 file of one channel group: a time master `t` (f64,
/// seconds) and `channels` f64 channels `c0..`, `records` records in one DT block, streamed
/// to disk. Values are cheap deterministic functions of the record index.
pub fn write_f64_file(path: &Path, channels: u32, records: u64) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    write_f64(&mut out, channels, records)?;
    out.flush()
}

/// The file of [`write_f64_file`], written to `out`.
pub fn write_f64(out: &mut impl Write, channels: u32, records: u64) -> std::io::Result<()> {
    let mut w = BlockWriter::new();
    let mut next = 0;
    for k in (0..channels).rev() {
        let spec = ChannelSpec {
            name: format!("c{k}"),
            data_type: 4,
            byte_offset: 8 * (k + 1),
            bit_count: 64,
            ..Default::default()
        };
        next = w.cn(next, &spec);
    }
    let unit = w.tx("s");
    let time = ChannelSpec {
        name: "t".into(),
        cn_type: 2,
        sync_type: 1,
        data_type: 4,
        bit_count: 64,
        unit,
        ..Default::default()
    };
    let first = w.cn(next, &time);
    let record = 8 * (channels + 1);
    let cg = w.cg(0, first, 0, records, record, 0);
    let dg = w.dg(0, cg, 0, 0);
    w.set_first_dg(dg);
    let dt_at = w.len().next_multiple_of(8);
    w.patch_link(dg, 2, dt_at);
    let mut meta = w.finish();
    meta.resize(dt_at as usize, 0);
    out.write_all(&meta)?;
    out.write_all(b"##DT\0\0\0\0")?;
    out.write_all(&(24 + records * u64::from(record)).to_le_bytes())?;
    out.write_all(&0u64.to_le_bytes())?;
    let mut row = Vec::with_capacity(record as usize);
    for i in 0..records {
        row.clear();
        row.extend_from_slice(&(i as f64 * 1e-3).to_le_bytes());
        for k in 0..u64::from(channels) {
            let v = ((i.wrapping_mul(2_654_435_761).wrapping_add(k * 97)) % 10_007) as f64 * 0.25 - 1000.0;
            row.extend_from_slice(&v.to_le_bytes());
        }
        out.write_all(&row)?;
    }
    Ok(())
}
