//! The JSON summary of an MDF4 file and the running statistics behind it.

use serde::Serialize;

use super::conversion::Phys;
use super::header::FileHeader;
use super::text::SourceInfo;

/// The output of the MDF stage: what the file holds, per channel group and channel.
#[derive(Debug, Clone, Serialize)]
pub struct MdfSummary {
    /// Always "MDF".
    pub format: String,
    /// File size in bytes.
    pub file_size: u64,
    /// Identification and header block content.
    pub header: FileHeader,
    /// Channel groups in file order (variable-length signal data groups are left out).
    pub channel_groups: Vec<GroupSummary>,
    /// CSV files written (names inside the CSV directory), one per channel group.
    pub csv_files: Vec<String>,
}

/// One channel group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupSummary {
    /// Position in `channel_groups`.
    pub index: usize,
    /// Index of the data group that holds it.
    pub data_group: usize,
    /// Acquisition name.
    pub name: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// Acquisition source.
    pub source: Option<SourceInfo>,
    /// Record id (0 in sorted data groups without ids).
    pub record_id: u64,
    /// Records read.
    pub records: u64,
    /// Bytes per record, without the record id.
    pub record_bytes: u64,
    /// Name of the master channel.
    pub master: Option<String>,
    /// Master value of the first record.
    pub first_master: Option<f64>,
    /// Master value of the last record.
    pub last_master: Option<f64>,
    /// The CSV file of this group, when CSVs were written.
    pub csv: Option<String>,
    /// Channels in file order (structure members follow their parent).
    pub channels: Vec<ChannelSummary>,
}

/// One channel: its description and statistics of its physical values.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelSummary {
    /// Name.
    pub name: String,
    /// Unit ("" when none).
    pub unit: String,
    /// Comment.
    pub comment: Option<String>,
    /// "value", "master", "virtual_master", "sync", "vlsd", "virtual_data", ...
    pub kind: &'static str,
    /// "unsigned_le", "signed_be", "float_le", "string", "bytes", ...
    pub data_type: &'static str,
    /// Byte offset in the record (after the record id).
    pub byte_offset: u32,
    /// Bit offset (0..=7).
    pub bit_offset: u8,
    /// Width in bits.
    pub bit_count: u32,
    /// Conversion applied ("identity", "linear", "rational", "value_to_text", ...).
    pub conversion: String,
    /// Number of samples (records of the group), valid or not.
    pub samples: u64,
    /// Samples flagged invalid by their invalidation bit.
    pub invalid: u64,
    /// Valid samples whose physical value is text.
    pub text_samples: u64,
    /// Smallest numeric physical value (NaN ignored).
    pub min: Option<f64>,
    /// Largest numeric physical value (NaN ignored).
    pub max: Option<f64>,
    /// Mean of the numeric physical values (NaN ignored).
    pub mean: Option<f64>,
    /// Master value at the first valid sample.
    pub first_master: Option<f64>,
    /// Master value at the last valid sample.
    pub last_master: Option<f64>,
    /// Why values were not decoded, when they were not.
    pub note: Option<String>,
}

/// Running statistics of one channel.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    pub samples: u64,
    pub invalid: u64,
    pub text: u64,
    numeric: u64,
    min: f64,
    max: f64,
    sum: f64,
    pub first_master: Option<f64>,
    pub last_master: Option<f64>,
}

impl Stats {
    #[inline]
    pub fn add(&mut self, v: Phys<'_>) {
        match v.as_f64() {
            Some(x) if !x.is_nan() => self.add_number(x),
            Some(_) => {}
            None => self.text += u64::from(matches!(v, Phys::Text(_))),
        }
    }

    #[inline]
    fn add_number(&mut self, x: f64) {
        if self.numeric == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.sum += x;
        self.numeric += 1;
    }

    /// Merge the count, min, max and sum of a batch of non-NaN numbers.
    pub fn merge(&mut self, n: u64, min: f64, max: f64, sum: f64) {
        if n == 0 {
            return;
        }
        if self.numeric == 0 {
            self.min = min;
            self.max = max;
        } else {
            self.min = self.min.min(min);
            self.max = self.max.max(max);
        }
        self.sum += sum;
        self.numeric += n;
    }

    pub fn min(&self) -> Option<f64> {
        (self.numeric > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<f64> {
        (self.numeric > 0).then_some(self.max)
    }

    pub fn mean(&self) -> Option<f64> {
        (self.numeric > 0).then(|| self.sum / self.numeric as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_ignore_nan_and_text() {
        let mut s = Stats::default();
        assert_eq!(s.mean(), None);
        for v in [
            Phys::Float(2.0),
            Phys::Int(-4),
            Phys::Float(f64::NAN),
            Phys::Text("x"),
            Phys::UInt(8),
        ] {
            s.add(v);
        }
        assert_eq!(
            (s.min(), s.max(), s.mean(), s.text),
            (Some(-4.0), Some(8.0), Some(2.0), 1)
        );
    }
}
