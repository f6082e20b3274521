//! Walks a file once: metadata first, then the data of each data group, record by record,
//! in bounded memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use super::block::Source;
use super::channel::{DataGroup, read_data_groups};
use super::csv::CsvWriter;
use super::data::DataReader;
use super::error::{MdfError, Result};
use super::header::read_header;
use super::sink::{GroupSink, csv_columns};
use super::summary::MdfSummary;

/// Bytes read from the data section at a time.
const CHUNK: usize = 1 << 20;

/// Summarize the MDF4 file at `path`; with `csv_dir`, also write one CSV per channel group
/// there (`group_<index>.csv`).
pub fn summarize_file(path: &Path, csv_dir: Option<&Path>) -> Result<MdfSummary> {
    let file = File::open(path)?;
    summarize(BufReader::with_capacity(64 << 10, file), csv_dir)
}

/// Summarize an MDF4 file from any seekable reader (see [`summarize_file`]).
pub fn summarize<R: Read + Seek>(reader: R, csv_dir: Option<&Path>) -> Result<MdfSummary> {
    let mut src = Source::new(reader)?;
    let (header, links) = read_header(&mut src)?;
    let data_groups = read_data_groups(&mut src, links.first_dg)?;
    let mut channel_groups = Vec::new();
    let mut csv_files = Vec::new();
    for (d, dg) in data_groups.iter().enumerate() {
        let mut sinks = Vec::new();
        for group in dg.groups.iter().filter(|g| !g.vlsd) {
            let index = channel_groups.len() + sinks.len();
            let csv = match csv_dir {
                Some(dir) => {
                    let name = format!("group_{index}.csv");
                    let writer = CsvWriter::create(&dir.join(&name), &csv_columns(group))?;
                    csv_files.push(name.clone());
                    Some((name, writer))
                }
                None => None,
            };
            sinks.push(GroupSink::new(group, usize::from(dg.rec_id_size), csv));
        }
        stream_data_group(&mut src, dg, &mut sinks)?;
        for sink in sinks {
            let index = channel_groups.len();
            channel_groups.push(sink.finish(index, d)?);
        }
    }
    Ok(MdfSummary {
        format: "MDF".into(),
        file_size: src.size(),
        header,
        channel_groups,
        csv_files,
    })
}

/// A byte buffer over the data section that hands out whole records.
struct Records<'a, R> {
    reader: DataReader<'a, R>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes of the data section consumed so far.
    position: u64,
}

impl<'a, R: Read + Seek> Records<'a, R> {
    fn new(reader: DataReader<'a, R>) -> Self {
        Records {
            reader,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            position: 0,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Make at least `n` bytes available; false if the data ends first.
    fn ensure(&mut self, n: usize) -> Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < n {
            if self.end == self.buf.len() {
                // Grow only as data arrives, so a huge declared record in a small file
                // allocates nothing.
                let grow = (2 * self.buf.len()).clamp(self.end + 1, n);
                self.buf.resize(grow, 0);
            }
            if haul_pipeline::cancel::cancelled() {
                return Err(MdfError::Cancelled);
            }
            let read = self.reader.read(&mut self.buf[self.end..])?;
            if read == 0 {
                return Ok(false);
            }
            self.end += read;
        }
        Ok(true)
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.position += n as u64;
    }

    /// Skip `n` bytes (variable length records), reading through them.
    fn skip(&mut self, mut n: u64) -> Result<bool> {
        while n > 0 {
            if self.end == self.start && !self.ensure(1)? {
                return Ok(false);
            }
            let step = (self.end - self.start).min(usize::try_from(n).unwrap_or(usize::MAX));
            self.consume(step);
            n -= step as u64;
        }
        Ok(true)
    }

    fn truncated(&self, offset: u64, needed: usize) -> MdfError {
        MdfError::Truncated {
            offset,
            what: "record in the data section",
            needed: needed as u64,
            available: (self.end - self.start) as u64,
        }
    }
}

fn stream_data_group<R: Read + Seek>(src: &mut Source<R>, dg: &DataGroup, sinks: &mut [GroupSink<'_>]) -> Result<()> {
    if sinks.is_empty() || dg.data == 0 {
        return Ok(());
    }
    let records = Records::new(DataReader::new(src, dg.data)?);
    if dg.groups.len() == 1 {
        stream_sorted(records, dg, &mut sinks[0])
    } else {
        stream_unsorted(records, dg, sinks)
    }
}

fn stream_sorted<R: Read + Seek>(mut records: Records<'_, R>, dg: &DataGroup, sink: &mut GroupSink<'_>) -> Result<()> {
    let group = &dg.groups[0];
    let stride = usize::from(dg.rec_id_size) + group.record_len() as usize;
    if stride == 0 {
        return Ok(());
    }
    let mut left = group.cycle_count;
    while left > 0 {
        if !records.ensure(stride)? {
            return Err(records.truncated(dg.data, stride));
        }
        let whole = (records.available().len() / stride) as u64;
        let take = whole.min(left) as usize;
        sink.consume(&records.available()[..take * stride], stride)?;
        records.consume(take * stride);
        left -= take as u64;
    }
    Ok(())
}

/// How to handle the records of one record id in unsorted data.
#[derive(Clone, Copy)]
enum Target {
    /// Fixed-length records fed to `sinks[index]`.
    Fixed { index: usize, len: usize },
    /// Variable-length signal data: a u32 length, then that many bytes (skipped).
    Vlsd,
}

fn stream_unsorted<R: Read + Seek>(
    mut records: Records<'_, R>,
    dg: &DataGroup,
    sinks: &mut [GroupSink<'_>],
) -> Result<()> {
    let id_size = usize::from(dg.rec_id_size);
    let targets = record_targets(dg)?;
    while records.ensure(id_size)? {
        let mut id = [0u8; 8];
        id[..id_size].copy_from_slice(&records.available()[..id_size]);
        let id = u64::from_le_bytes(id);
        let target = targets.get(&id).copied().ok_or_else(|| {
            MdfError::invalid(
                dg.data,
                format!("unknown record id {id} at data position {}", records.position),
            )
        })?;
        match target {
            Target::Fixed { index, len } => {
                let stride = id_size + len;
                if !records.ensure(stride)? {
                    return Err(records.truncated(dg.data, stride));
                }
                sinks[index].consume(&records.available()[..stride], stride)?;
                records.consume(stride);
            }
            Target::Vlsd => {
                if !records.ensure(id_size + 4)? {
                    return Err(records.truncated(dg.data, id_size + 4));
                }
                let b = &records.available()[id_size..id_size + 4];
                let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                records.consume(id_size + 4);
                if !records.skip(u64::from(len))? {
                    return Err(records.truncated(dg.data, len as usize));
                }
            }
        }
    }
    if !records.available().is_empty() {
        return Err(records.truncated(dg.data, id_size));
    }
    Ok(())
}

fn record_targets(dg: &DataGroup) -> Result<HashMap<u64, Target>> {
    if dg.rec_id_size == 0 {
        return Err(MdfError::invalid(
            dg.offset,
            "several channel groups without record ids",
        ));
    }
    let mut targets = HashMap::new();
    let mut index = 0;
    for group in &dg.groups {
        let target = if group.vlsd {
            Target::Vlsd
        } else {
            index += 1;
            Target::Fixed {
                index: index - 1,
                len: group.record_len() as usize,
            }
        };
        if targets.insert(group.record_id, target).is_some() {
            return Err(MdfError::invalid(
                group.offset,
                format!("record id {} used twice", group.record_id),
            ));
        }
    }
    Ok(targets)
}
