//! The measurement tree: data groups (DG), channel groups (CG) and channels (CN).

use std::io::{Read, Seek};

use super::block::{Block, Chain, Source};
use super::conversion::{Conversion, read_conversion};
use super::error::{MdfError, Result};
use super::record::Field;
use super::text::{SourceInfo, read_comment, read_source, read_text};

/// Most data groups, channel groups per data group, and channels per group walked.
const MAX_GROUPS: usize = 1 << 20;
const MAX_CHANNELS: usize = 1 << 20;
/// Largest record (id + data + invalidation bytes) accepted.
pub(crate) const MAX_RECORD: u64 = 64 << 20;
/// How deep structure channels (CN composition) may nest.
const MAX_NESTING: usize = 8;

/// A data group: one data section holding the records of its channel groups.
#[derive(Debug)]
pub(crate) struct DataGroup {
    pub offset: u64,
    /// Bytes of the record id before each record (0, 1, 2, 4 or 8).
    pub rec_id_size: u8,
    /// Link to the data (DT, DZ, DL or HL), nil when empty.
    pub data: u64,
    pub groups: Vec<ChannelGroup>,
}

/// A channel group: records of one layout.
#[derive(Debug)]
pub(crate) struct ChannelGroup {
    pub offset: u64,
    pub record_id: u64,
    pub cycle_count: u64,
    /// Variable-length signal data group (its records are skipped).
    pub vlsd: bool,
    pub data_bytes: u32,
    pub inval_bytes: u32,
    pub acq_name: Option<String>,
    pub comment: Option<String>,
    pub source: Option<SourceInfo>,
    pub channels: Vec<Channel>,
}

impl ChannelGroup {
    /// Bytes of one record after the record id.
    pub fn record_len(&self) -> u64 {
        u64::from(self.data_bytes) + u64::from(self.inval_bytes)
    }

    /// Index of the master channel (the time channel when there are several kinds).
    pub fn master(&self) -> Option<usize> {
        let masters = || self.channels.iter().enumerate().filter(|(_, c)| c.is_master());
        masters()
            .find(|(_, c)| c.sync_type == 1)
            .or_else(|| masters().next())
            .map(|(i, _)| i)
    }
}

/// Where a channel's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueSource {
    /// Bits of the record.
    Field(Field),
    /// The record index (virtual master or virtual data channel).
    RecordIndex,
    /// Values this reader does not decode (variable length data, arrays); the reason.
    Unsupported(String),
}

/// A channel.
#[derive(Debug)]
pub(crate) struct Channel {
    pub name: String,
    pub unit: Option<String>,
    pub comment: Option<String>,
    pub cn_type: u8,
    pub sync_type: u8,
    pub data_type: u8,
    pub byte_offset: u32,
    pub bit_offset: u8,
    pub bit_count: u32,
    /// Invalidation bit position, when the channel uses one.
    pub inval_bit: Option<u32>,
    /// Every value is invalid (cn_flags bit 0).
    pub all_invalid: bool,
    pub source: ValueSource,
    pub conversion: Conversion,
}

impl Channel {
    pub fn is_master(&self) -> bool {
        matches!(self.cn_type, 2 | 3)
    }

    /// True for integer raw values (ranges in conversions are then inclusive).
    pub fn integer(&self) -> bool {
        self.data_type <= 3
    }
}

/// Read every data group reachable from the HD block.
pub(crate) fn read_data_groups<R: Read + Seek>(src: &mut Source<R>, first: u64) -> Result<Vec<DataGroup>> {
    let mut chain = Chain::new("DG chain", MAX_GROUPS);
    let mut groups = Vec::new();
    let mut next = first;
    while next != 0 {
        chain.visit(next)?;
        let dg = src.block(next, &[b"##DG"], "DG block")?;
        let rec_id_size = dg.u8(0)?;
        if ![0, 1, 2, 4, 8].contains(&rec_id_size) {
            return Err(MdfError::invalid(
                dg.offset() + 24 + 8 * dg.links.len() as u64,
                format!("record id size {rec_id_size}"),
            ));
        }
        let cgs = read_channel_groups(src, dg.link(1), rec_id_size)?;
        if rec_id_size == 0 && cgs.len() > 1 {
            return Err(MdfError::invalid(
                dg.offset(),
                "several channel groups without record ids",
            ));
        }
        groups.push(DataGroup {
            offset: dg.offset(),
            rec_id_size,
            data: dg.link(2),
            groups: cgs,
        });
        next = dg.link(0);
    }
    Ok(groups)
}

fn read_channel_groups<R: Read + Seek>(src: &mut Source<R>, first: u64, rec_id_size: u8) -> Result<Vec<ChannelGroup>> {
    let mut chain = Chain::new("CG chain", MAX_GROUPS);
    let mut groups = Vec::new();
    let mut next = first;
    while next != 0 {
        chain.visit(next)?;
        let cg = src.block(next, &[b"##CG"], "CG block")?;
        groups.push(read_channel_group(src, &cg, rec_id_size)?);
        next = cg.link(0);
    }
    Ok(groups)
}

fn read_channel_group<R: Read + Seek>(src: &mut Source<R>, cg: &Block, rec_id_size: u8) -> Result<ChannelGroup> {
    let flags = cg.u16(16)?;
    let mut group = ChannelGroup {
        offset: cg.offset(),
        record_id: cg.u64(0)?,
        cycle_count: cg.u64(8)?,
        vlsd: flags & 1 != 0,
        data_bytes: cg.u32(24)?,
        inval_bytes: cg.u32(28)?,
        acq_name: read_text(src, cg.link(2))?,
        comment: read_comment(src, cg.link(5))?,
        source: read_source(src, cg.link(3))?,
        channels: Vec::new(),
    };
    if group.vlsd {
        return Ok(group);
    }
    let size = u64::from(rec_id_size) + group.record_len();
    if size > MAX_RECORD {
        return Err(MdfError::AbsurdSize {
            offset: cg.offset(),
            what: "record size",
            value: size,
            limit: MAX_RECORD,
        });
    }
    let mut chain = Chain::new("CN chain", MAX_CHANNELS);
    let layout = Layout {
        data_bytes: group.data_bytes,
        inval_bytes: group.inval_bytes,
    };
    group.channels = read_channels(src, cg.link(1), layout, &mut chain, 0)?;
    Ok(group)
}

/// The record sizes a channel must fit in.
#[derive(Clone, Copy)]
struct Layout {
    data_bytes: u32,
    inval_bytes: u32,
}

fn read_channels<R: Read + Seek>(
    src: &mut Source<R>,
    first: u64,
    layout: Layout,
    chain: &mut Chain,
    depth: usize,
) -> Result<Vec<Channel>> {
    let mut out = Vec::new();
    let mut next = first;
    while next != 0 {
        chain.visit(next)?;
        let cn = src.block(next, &[b"##CN"], "CN block")?;
        let composition = cn.link(1);
        let mut channel = read_channel(src, &cn, layout)?;
        if composition != 0 {
            let header = src.header(
                composition,
                &[b"##CN", b"##CA", b"##CL", b"##CV", b"##CU"],
                "composition block",
            )?;
            if header.id == *b"##CN" && depth < MAX_NESTING {
                out.push(channel);
                let nested = read_channels(src, composition, layout, chain, depth + 1)?;
                out.extend(nested);
                next = cn.link(0);
                continue;
            }
            let kind = String::from_utf8_lossy(&header.id[2..]).into_owned();
            channel.source = ValueSource::Unsupported(format!("composition {kind}"));
        }
        out.push(channel);
        next = cn.link(0);
    }
    Ok(out)
}

fn read_channel<R: Read + Seek>(src: &mut Source<R>, cn: &Block, group: Layout) -> Result<Channel> {
    let at = cn.offset();
    let cn_type = cn.u8(0)?;
    let data_type = cn.u8(2)?;
    let bit_offset = cn.u8(3)?;
    let byte_offset = cn.u32(4)?;
    let bit_count = cn.u32(8)?;
    let flags = cn.u32(12)?;
    let inval_pos = cn.u32(16)?;
    let parsed = read_conversion(src, cn.link(4))?;
    let source = match cn_type {
        0 | 2 | 4 => {
            let field = Field::new(byte_offset, bit_offset, bit_count, data_type, at)?;
            if field.end() > u64::from(group.data_bytes) {
                return Err(MdfError::invalid(
                    at,
                    format!(
                        "channel needs {} record bytes, the group has {}",
                        field.end(),
                        group.data_bytes
                    ),
                ));
            }
            ValueSource::Field(field)
        }
        3 | 6 => ValueSource::RecordIndex,
        1 | 5 => ValueSource::Unsupported("variable length signal data".into()),
        other => ValueSource::Unsupported(format!("channel type {other}")),
    };
    let inval_bit = (flags & 2 != 0).then_some(inval_pos);
    if let Some(pos) = inval_bit
        && u64::from(pos / 8) >= u64::from(group.inval_bytes)
    {
        return Err(MdfError::invalid(
            at,
            format!("invalidation bit {pos} beyond {} invalidation bytes", group.inval_bytes),
        ));
    }
    Ok(Channel {
        name: read_text(src, cn.link(2))?.unwrap_or_default(),
        unit: read_comment(src, cn.link(6))?.or(parsed.unit),
        comment: read_comment(src, cn.link(7))?,
        cn_type,
        sync_type: cn.u8(1)?,
        data_type,
        byte_offset,
        bit_offset,
        bit_count,
        inval_bit,
        all_invalid: flags & 1 != 0,
        source,
        conversion: parsed.conversion,
    })
}
