//! Which of tract's matrix kernels suit this CPU, decided once per process by measuring.
//!
//! tract picks between its AVX-512 and its AVX2/FMA matrix kernels with cost models fitted
//! on particular machines; for AMD that is a Zen 5, which executes a 512-bit FMA in one go.
//! Cores that split a 512-bit FMA into two 256-bit halves (Zen 4, single-FMA-port Intel
//! parts) get no throughput from the wider kernels, and there tract's AVX-512 choices ran
//! the PP-OCRv4 recogniser's matrix products 20-25 % slower than its AVX2/FMA kernels.
//! So before tract first looks at the CPU, the FMA throughput of 512-bit and 256-bit
//! registers is timed (about a millisecond); unless the wide one is clearly faster, tract's
//! AVX-512 instruction set is taken out of its choices with its own `TRACT_CPU_ISA` knob,
//! as a process default below the environment: a `TRACT_CPU_ISA` set by the user wins.

use std::sync::Once;

/// The wide kernels are kept when 512-bit FMAs run at least this much faster than 256-bit
/// ones (2.0 on cores with full-width units, about 1.0 on those that split them).
const WIDE_SPEEDUP_NEEDED: f64 = 1.5;

/// Runs the measurement and sets tract's knob, once per process, before any model is built.
pub fn choose_tract_kernels() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(ratio) = wide_fma_speedup() else { return };
        if ratio >= WIDE_SPEEDUP_NEEDED {
            tracing::debug!("512-bit FMA runs {ratio:.2}x the 256-bit rate: tract keeps its AVX-512 kernels");
            return;
        }
        match tract_onnx::tract_core::knobs::set_config_global("TRACT_CPU_ISA", "-avx512f") {
            Ok(()) => tracing::debug!("512-bit FMA runs {ratio:.2}x the 256-bit rate: tract uses its AVX2/FMA kernels"),
            Err(e) => tracing::debug!("tract's TRACT_CPU_ISA left as it is: {e}"),
        }
    });
}

/// How much faster 512-bit FMAs run than 256-bit ones on this core, when it has both.
#[cfg(target_arch = "x86_64")]
pub fn wide_fma_speedup() -> Option<f64> {
    let narrow = pulp::x86::V3::try_new()?;
    let wide = pulp::x86::V4::try_new()?;
    // Narrow first: a core that lowers its clock for 512-bit work then measures each width
    // at the clock it would run it at.
    let narrow = fma_rate(narrow);
    let wide = fma_rate(wide);
    Some(wide / narrow)
}

/// How much faster 512-bit FMAs run than 256-bit ones on this core, when it has both.
#[cfg(not(target_arch = "x86_64"))]
pub fn wide_fma_speedup() -> Option<f64> {
    None
}

/// Lane-FMAs per second over independent chains (the best of several short runs: anything
/// else running only ever slows a run down).
#[cfg(target_arch = "x86_64")]
fn fma_rate<S: pulp::Simd>(simd: S) -> f64 {
    const CHAINS: usize = 12;
    const INNER: usize = 100;
    let lanes = std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>();
    let outer = std::hint::black_box(200usize);
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let start = std::time::Instant::now();
        let acc = simd.vectorize(
            #[inline(always)]
            || {
                let a = simd.splat_f32s(std::hint::black_box(0.999));
                let b = simd.splat_f32s(0.001);
                let mut acc = [simd.splat_f32s(1.0); CHAINS];
                for _ in 0..outer {
                    for _ in 0..INNER {
                        for v in acc.iter_mut() {
                            *v = simd.mul_add_e_f32s(*v, a, b);
                        }
                    }
                    // Keeps the chains from being folded away.
                    acc = std::hint::black_box(acc);
                }
                acc
            },
        );
        std::hint::black_box(acc);
        best = best.min(start.elapsed().as_secs_f64());
    }
    (outer * INNER * CHAINS * lanes) as f64 / best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_measured_rates_are_physical() {
        // A loop the compiler folded away would report absurd rates: a core retires at most
        // a few times 10^10 lane-FMAs per second.
        let Some(narrow) = pulp::x86::V3::try_new() else { return };
        let rate = fma_rate(narrow);
        assert!((1e8..5e11).contains(&rate), "{rate:e} lane-FMA/s");
        if let Some(ratio) = wide_fma_speedup() {
            // 512-bit registers hold twice the lanes: half to twice the 256-bit lane rate.
            assert!((0.3..=3.0).contains(&ratio), "{ratio}");
        }
    }
}
