//! Streaming sample-rate conversion by a polyphase windowed-sinc filter.
//!
//! Works for any pair of integer rates: with `g = gcd(src, dst)` the filter has `dst / g`
//! phases and steps `src / g` input samples per `dst / g` outputs. The low-pass cutoff is 45 %
//! of the lower rate (anti-aliasing when decimating, anti-imaging when interpolating), the
//! kernel a Kaiser-windowed sinc (beta 8, about 80 dB stop band) spanning 10 zero crossings
//! each side. Input arrives in chunks, so a long recording never needs its whole stream in
//! memory at the original rate.

/// Zero crossings of the sinc kept on each side of the kernel centre.
const ZEROS: f64 = 10.0;
/// Kaiser window shape parameter.
const KAISER_BETA: f64 = 8.0;
/// Cutoff as a fraction of the lower of the two rates.
const CUTOFF_FRACTION: f64 = 0.45;

/// A resampler that consumes chunks of input and appends output samples.
pub struct Resampler {
    /// Input samples advanced per `up` outputs.
    down: u64,
    /// Number of filter phases.
    up: u64,
    /// Taps of each phase (`bank[p]` has `2 * half` taps).
    bank: Vec<Vec<f32>>,
    half: usize,
    /// Pending input; `buf[0]` is absolute input index `buf_start` (negative = zero padding).
    buf: Vec<f32>,
    buf_start: i64,
    received: u64,
    produced: u64,
    passthrough: bool,
}

impl Resampler {
    /// A resampler from `src_rate` to `dst_rate` (both in Hz, non-zero).
    pub fn new(src_rate: u32, dst_rate: u32) -> Resampler {
        let g = gcd(src_rate.max(1) as u64, dst_rate.max(1) as u64);
        let down = src_rate.max(1) as u64 / g;
        let up = dst_rate.max(1) as u64 / g;
        let passthrough = down == up;
        let cutoff = CUTOFF_FRACTION * (src_rate.min(dst_rate).max(1) as f64);
        // Half width of the kernel in input samples.
        let width = ZEROS * src_rate.max(1) as f64 / (2.0 * cutoff);
        let half = if passthrough { 0 } else { width.ceil() as usize };
        let bank = if passthrough {
            Vec::new()
        } else {
            (0..up)
                .map(|p| phase_taps(p as f64 / up as f64, half, width, cutoff / src_rate as f64))
                .collect()
        };
        Resampler {
            down,
            up,
            bank,
            half,
            buf: vec![0.0; half.saturating_sub(1)],
            buf_start: -(half.saturating_sub(1) as i64),
            received: 0,
            produced: 0,
            passthrough,
        }
    }

    /// Feed `input` and append every output sample that is now computable to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.passthrough {
            out.extend_from_slice(input);
            self.received += input.len() as u64;
            return;
        }
        self.buf.extend_from_slice(input);
        self.received += input.len() as u64;
        self.drain_ready(out, self.received);
    }

    /// Flush the tail (the input is treated as followed by silence) and append it to `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if self.passthrough {
            return;
        }
        let total_out = (self.received * self.up).div_ceil(self.down);
        self.buf.extend(std::iter::repeat_n(0.0, self.half + 1));
        let limit = self.received + self.half as u64 + 1;
        while self.produced < total_out {
            if !self.emit_one(out, limit) {
                break;
            }
        }
    }

    fn drain_ready(&mut self, out: &mut Vec<f32>, available: u64) {
        while self.emit_one(out, available) {}
        // Drop input no future output needs.
        let q = (self.produced * self.down / self.up) as i64;
        let first_needed = q - self.half as i64 + 1;
        let drop = (first_needed - self.buf_start).max(0) as usize;
        if drop > 4096 && drop <= self.buf.len() {
            self.buf.drain(..drop);
            self.buf_start += drop as i64;
        }
    }

    /// Compute output `produced` if its input (up to index `q + half`) is below `available`.
    fn emit_one(&mut self, out: &mut Vec<f32>, available: u64) -> bool {
        let pos = self.produced * self.down;
        let q = pos / self.up;
        let p = (pos % self.up) as usize;
        if q + self.half as u64 >= available {
            return false;
        }
        let start = (q as i64 - self.half as i64 + 1 - self.buf_start) as usize;
        let taps = &self.bank[p];
        let Some(window) = self.buf.get(start..start + taps.len()) else {
            return false;
        };
        out.push(dot(taps, window));
        self.produced += 1;
        true
    }
}

/// Taps of one phase: the kernel sampled at `tau = frac + half - 1 - j`, normalised to unit gain.
fn phase_taps(frac: f64, half: usize, width: f64, norm_cutoff: f64) -> Vec<f32> {
    let mut taps: Vec<f64> = (0..2 * half)
        .map(|j| {
            let tau = frac + half as f64 - 1.0 - j as f64;
            kernel(tau, width, norm_cutoff)
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    if sum.abs() > 1e-12 {
        taps.iter_mut().for_each(|t| *t /= sum);
    }
    taps.into_iter().map(|t| t as f32).collect()
}

/// Kaiser-windowed sinc at `tau` input samples from the centre.
fn kernel(tau: f64, width: f64, norm_cutoff: f64) -> f64 {
    let r = tau / width;
    if r.abs() >= 1.0 {
        return 0.0;
    }
    let x = 2.0 * norm_cutoff * tau;
    let sinc = if x.abs() < 1e-12 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    };
    let w = bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / bessel_i0(KAISER_BETA);
    2.0 * norm_cutoff * sinc * w
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..64 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < 1e-16 * sum {
            break;
        }
    }
    sum
}

/// Dot product with eight independent accumulators (lets the compiler vectorise).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Resample a whole buffer (convenience for tests and in-memory signals).
pub fn resample(input: &[f32], src_rate: u32, dst_rate: u32) -> Vec<f32> {
    let mut r = Resampler::new(src_rate, dst_rate);
    let mut out = Vec::with_capacity(input.len() * dst_rate as usize / src_rate.max(1) as usize + 1);
    r.push(input, &mut out);
    r.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn output_length_follows_the_rate_ratio() {
        for (src, dst) in [(4000, 1000), (44100, 1000), (8000, 1000), (500, 1000), (1000, 1000)] {
            let out = resample(&vec![0.5; src as usize * 3], src, dst);
            assert_eq!(out.len(), dst as usize * 3, "{src} -> {dst}");
        }
    }

    #[test]
    fn keeps_in_band_tone_and_removes_aliasing_tone() {
        let pass = resample(&sine(100.0, 44100, 44100), 44100, 1000);
        assert!((rms(&pass[100..900]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01);
        // 1300 Hz would alias to 300 Hz at 1000 Hz without the anti-aliasing filter.
        let stop = resample(&sine(1300.0, 4000, 4000), 4000, 1000);
        assert!(rms(&stop[100..900]) < 1e-3);
    }

    #[test]
    fn chunked_input_gives_the_same_output_as_one_buffer() {
        let x = sine(37.0, 4000, 20_000);
        let whole = resample(&x, 4000, 1000);
        let mut r = Resampler::new(4000, 1000);
        let mut out = Vec::new();
        for chunk in x.chunks(333) {
            r.push(chunk, &mut out);
        }
        r.finish(&mut out);
        assert_eq!(whole.len(), out.len());
        assert!(whole.iter().zip(&out).all(|(a, b)| (a - b).abs() < 1e-6));
    }

    #[test]
    fn timing_is_preserved() {
        // An impulse at input sample 4000 (1 s at 4 kHz) peaks at output sample 1000.
        let mut x = vec![0.0; 8000];
        x[4000] = 1.0;
        let out = resample(&x, 4000, 1000);
        let peak = (0..out.len()).max_by(|&a, &b| out[a].total_cmp(&out[b])).unwrap();
        assert_eq!(peak, 1000);
    }
}
