//! Consumes the records of one channel group: decodes every channel, keeps statistics and
//! writes CSV rows.

use std::str;

use super::channel::{Channel, ChannelGroup, ValueSource};
use super::column::{Batch, column_stats};
use super::conversion::{Conversion, Phys};
use super::csv::CsvWriter;
use super::error::Result;
use super::record::{Raw, invalid_bit};
use super::summary::{ChannelSummary, GroupSummary, Stats};

/// The records of one channel group flowing into statistics and (optionally) a CSV file.
pub(crate) struct GroupSink<'m> {
    group: &'m ChannelGroup,
    id_size: usize,
    master: Option<usize>,
    stats: Vec<Stats>,
    records: u64,
    first_master: Option<f64>,
    last_master: Option<f64>,
    csv: Option<(String, CsvWriter)>,
}

impl<'m> GroupSink<'m> {
    /// `csv` is the file name and its open writer, when CSVs are written.
    pub fn new(group: &'m ChannelGroup, id_size: usize, csv: Option<(String, CsvWriter)>) -> Self {
        GroupSink {
            group,
            id_size,
            master: group.master(),
            stats: vec![Stats::default(); group.channels.len()],
            records: 0,
            first_master: None,
            last_master: None,
            csv,
        }
    }

    /// Consume whole records: `data` holds `data.len() / stride` records of `stride` bytes,
    /// each starting with the record id.
    pub fn consume(&mut self, data: &[u8], stride: usize) -> Result<()> {
        let batch = Batch {
            data,
            stride,
            id_size: self.id_size,
            start: self.records,
        };
        let count = batch.len();
        if count == 0 {
            return Ok(());
        }
        let inval_base = self.group.data_bytes as usize;
        for (channel, stats) in self.group.channels.iter().zip(&mut self.stats) {
            let (first, last) = column_stats(channel, batch, inval_base, stats);
            if stats.first_master.is_none() {
                stats.first_master = first.and_then(|i| master_at(self.group, self.master, batch, i));
            }
            if let Some(i) = last {
                stats.last_master = master_at(self.group, self.master, batch, i);
            }
        }
        if self.records == 0 {
            self.first_master = master_at(self.group, self.master, batch, 0);
        }
        self.last_master = master_at(self.group, self.master, batch, count - 1);
        if let Some((_, csv)) = &mut self.csv {
            write_rows(csv, self.group, batch)?;
        }
        self.records += count as u64;
        Ok(())
    }

    /// Close the CSV and build the summary of the group.
    pub fn finish(self, index: usize, data_group: usize) -> Result<GroupSummary> {
        let csv = match self.csv {
            Some((name, writer)) => {
                writer.finish()?;
                Some(name)
            }
            None => None,
        };
        let channels = self
            .group
            .channels
            .iter()
            .zip(&self.stats)
            .map(|(c, s)| channel_summary(c, s))
            .collect();
        Ok(GroupSummary {
            index,
            data_group,
            name: self.group.acq_name.clone(),
            comment: self.group.comment.clone(),
            source: self.group.source.clone(),
            record_id: self.group.record_id,
            records: self.records,
            record_bytes: self.group.record_len(),
            master: self
                .master
                .and_then(|m| self.group.channels.get(m))
                .map(|c| c.name.clone()),
            first_master: self.first_master,
            last_master: self.last_master,
            csv,
            channels,
        })
    }
}

/// Channels that appear as CSV columns (those whose values are decoded).
pub(crate) fn csv_columns(group: &ChannelGroup) -> Vec<&str> {
    group
        .channels
        .iter()
        .filter(|c| decoded(c))
        .map(|c| c.name.as_str())
        .collect()
}

fn decoded(channel: &Channel) -> bool {
    !matches!(channel.source, ValueSource::Unsupported(_))
}

fn write_rows(csv: &mut CsvWriter, group: &ChannelGroup, batch: Batch<'_>) -> Result<()> {
    let inval_base = group.data_bytes as usize;
    for (i, rec) in batch.records().enumerate() {
        let mut first = true;
        for channel in group.channels.iter().filter(|c| decoded(c)) {
            let v = if is_invalid(channel, rec, inval_base) {
                None
            } else {
                value(channel, rec, batch.start + i as u64)
            };
            csv.cell(first, v);
            first = false;
        }
        csv.end_row()?;
    }
    Ok(())
}

fn master_at(group: &ChannelGroup, master: Option<usize>, batch: Batch<'_>, i: usize) -> Option<f64> {
    let channel = group.channels.get(master?)?;
    value(channel, batch.record(i)?, batch.start + i as u64)?.as_f64()
}

#[inline]
fn is_invalid(channel: &Channel, rec: &[u8], inval_base: usize) -> bool {
    channel.all_invalid || channel.inval_bit.is_some_and(|pos| invalid_bit(rec, inval_base, pos))
}

/// The physical value of `channel` in `rec` (the record after its id); `None` when the
/// channel's values are not decoded.
#[inline]
pub(crate) fn value<'a>(channel: &'a Channel, rec: &'a [u8], index: u64) -> Option<Phys<'a>> {
    let raw = match &channel.source {
        ValueSource::Field(field) => field.read(rec),
        ValueSource::RecordIndex => Raw::U(index),
        ValueSource::Unsupported(_) => return None,
    };
    Some(convert(raw, &channel.conversion, channel.integer()))
}

#[inline]
fn convert<'a>(raw: Raw<'a>, conversion: &'a Conversion, integer: bool) -> Phys<'a> {
    if conversion.is_identity() {
        return match raw {
            Raw::U(v) => Phys::UInt(v),
            Raw::I(v) => Phys::Int(v),
            Raw::F(v) => Phys::Float(v),
            Raw::Text(b) => str::from_utf8(b).map_or(Phys::Bytes(b), Phys::Text),
            Raw::Bytes(b) => Phys::Bytes(b),
        };
    }
    match (raw.number(), raw) {
        (Some(x), _) => conversion.apply(x, integer),
        (None, Raw::Text(b)) => str::from_utf8(b).map_or(Phys::Bytes(b), Phys::Text),
        (None, _) => match raw {
            Raw::Bytes(b) => Phys::Bytes(b),
            _ => Phys::Bytes(&[]),
        },
    }
}

fn channel_summary(channel: &Channel, stats: &Stats) -> ChannelSummary {
    ChannelSummary {
        name: channel.name.clone(),
        unit: channel.unit.clone().unwrap_or_default(),
        comment: channel.comment.clone(),
        kind: kind_name(channel.cn_type),
        data_type: data_type_name(channel.data_type),
        byte_offset: channel.byte_offset,
        bit_offset: channel.bit_offset,
        bit_count: channel.bit_count,
        conversion: channel.conversion.name(),
        samples: stats.samples,
        invalid: stats.invalid,
        text_samples: stats.text,
        min: stats.min(),
        max: stats.max(),
        mean: stats.mean(),
        first_master: stats.first_master,
        last_master: stats.last_master,
        note: match &channel.source {
            ValueSource::Unsupported(why) => Some(format!("values not decoded: {why}")),
            _ => None,
        },
    }
}

fn kind_name(cn_type: u8) -> &'static str {
    match cn_type {
        0 => "value",
        1 => "vlsd",
        2 => "master",
        3 => "virtual_master",
        4 => "sync",
        5 => "mlsd",
        6 => "virtual_data",
        _ => "unknown",
    }
}

fn data_type_name(data_type: u8) -> &'static str {
    match data_type {
        0 => "unsigned_le",
        1 => "unsigned_be",
        2 => "signed_le",
        3 => "signed_be",
        4 => "float_le",
        5 => "float_be",
        6 => "string_latin1",
        7 => "string_utf8",
        8 => "string_utf16_le",
        9 => "string_utf16_be",
        10 => "bytes",
        11 => "mime_sample",
        12 => "mime_stream",
        13 => "canopen_date",
        14 => "canopen_time",
        _ => "unknown",
    }
}
