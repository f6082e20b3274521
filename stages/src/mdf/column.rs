//! Column kernels: statistics of one channel over a batch of records, with a tight loop for
//! the common case (a numeric channel, no invalidation bit, identity or linear conversion).

use super::channel::{Channel, ValueSource};
use super::conversion::Conversion;
use super::record::{Field, invalid_bit};
use super::sink::value;
use super::summary::Stats;

/// A batch of whole records: `data.len() / stride` records, each starting with a record id
/// of `id_size` bytes; `start` is the index of the first record in its group.
#[derive(Clone, Copy)]
pub(crate) struct Batch<'d> {
    pub data: &'d [u8],
    pub stride: usize,
    pub id_size: usize,
    pub start: u64,
}

impl<'d> Batch<'d> {
    pub fn len(&self) -> usize {
        self.data.len() / self.stride
    }

    /// Record `i` without its id.
    pub fn record(&self, i: usize) -> Option<&'d [u8]> {
        self.data.get(i * self.stride + self.id_size..(i + 1) * self.stride)
    }

    /// Records without their ids, in order.
    pub fn records(&self) -> impl Iterator<Item = &'d [u8]> + 'd {
        let id = self.id_size;
        self.data
            .chunks_exact(self.stride)
            .map(move |r| r.get(id..).unwrap_or(&[]))
    }
}

/// Update `stats` with the batch; returns the indexes of the first and last valid samples.
pub(crate) fn column_stats(
    channel: &Channel,
    batch: Batch<'_>,
    inval_base: usize,
    stats: &mut Stats,
) -> (Option<usize>, Option<usize>) {
    stats.samples += batch.len() as u64;
    if let Some((field, a, b)) = plain_numeric(channel) {
        let acc = match field.f64_offset() {
            Some(off) if a == 1.0 && b == 0.0 => f64_kernel(batch, batch.id_size + off),
            _ => numeric_kernel(field, a, b, batch),
        };
        stats.merge(acc.n, acc.min, acc.max, acc.sum);
        let last = batch.len().checked_sub(1);
        return (last.map(|_| 0), last);
    }
    let (mut first, mut last) = (None, None);
    for (i, rec) in batch.records().enumerate() {
        if channel.all_invalid || channel.inval_bit.is_some_and(|pos| invalid_bit(rec, inval_base, pos)) {
            stats.invalid += 1;
            continue;
        }
        if let Some(v) = value(channel, rec, batch.start + i as u64) {
            stats.add(v);
            first = first.or(Some(i));
            last = Some(i);
        }
    }
    (first, last)
}

/// The field and linear factors of a channel that the tight kernels can handle.
fn plain_numeric(channel: &Channel) -> Option<(&Field, f64, f64)> {
    let ValueSource::Field(field) = &channel.source else {
        return None;
    };
    if channel.all_invalid || channel.inval_bit.is_some() || !field.is_numeric() {
        return None;
    }
    match channel.conversion {
        Conversion::Identity | Conversion::NotApplied { .. } => Some((field, 1.0, 0.0)),
        Conversion::Linear { a, b } => Some((field, a, b)),
        _ => None,
    }
}

/// Running min, max and sum of non-NaN values.
#[derive(Clone, Copy)]
struct Acc {
    n: u64,
    min: f64,
    max: f64,
    sum: f64,
}

impl Acc {
    fn new() -> Self {
        Acc {
            n: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    /// Branch-free: NaN fails both comparisons and adds nothing to the sum or count.
    #[inline(always)]
    fn add(&mut self, x: f64) {
        let nan = x.is_nan();
        self.min = if x < self.min { x } else { self.min };
        self.max = if x > self.max { x } else { self.max };
        self.sum += if nan { 0.0 } else { x };
        self.n += u64::from(!nan);
    }

    fn merge(mut self, other: Acc) -> Acc {
        self.n += other.n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
        self
    }
}

#[inline(always)]
fn f64_at(rec: &[u8], off: usize) -> f64 {
    rec.get(off..off + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(f64::NAN, f64::from_le_bytes)
}

/// Little endian f64 at byte `off` of each record (id included), identity conversion; four
/// independent accumulators keep the additions from waiting on each other.
fn f64_kernel(batch: Batch<'_>, off: usize) -> Acc {
    let stride = batch.stride;
    let (mut a, mut b, mut c, mut d) = (Acc::new(), Acc::new(), Acc::new(), Acc::new());
    let mut quads = batch.data.chunks_exact(4 * stride);
    for quad in &mut quads {
        a.add(f64_at(quad, off));
        b.add(f64_at(quad, stride + off));
        c.add(f64_at(quad, 2 * stride + off));
        d.add(f64_at(quad, 3 * stride + off));
    }
    for rec in quads.remainder().chunks_exact(stride) {
        a.add(f64_at(rec, off));
    }
    a.merge(b).merge(c.merge(d))
}

fn numeric_kernel(field: &Field, a: f64, b: f64, batch: Batch<'_>) -> Acc {
    let mut acc = Acc::new();
    let identity = a == 1.0 && b == 0.0;
    for rec in batch.records() {
        if let Some(x) = field.read(rec).number() {
            acc.add(if identity { x } else { x * a + b });
        }
    }
    acc
}
