//! Times the recognition network alone (tract, one thread) on given input widths, the way
//! `scripts/plate/compare_rapidocr.py` times onnxruntime alone: one all-zero input of
//! `1 x channels x height x W` per width, the passes run in turn, the minimum per entry kept,
//! the mean over entries printed as JSON. Plans are built on first use, as in `haul`.
//! Needs haul-stages' `read` feature (on whenever the workspace builds the `haul` binary).
//!
//! cargo run --release -p haul-stages --features read --example plate_rec_bench -- MODEL ROUNDS W...

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use haul_stages::plate::read::RecModel;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let model = args.next().expect("usage: plate_rec_bench MODEL ROUNDS WIDTH...");
    let rounds: usize = args.next().expect("ROUNDS").parse()?;
    let widths: Vec<usize> = args.map(|w| w.parse()).collect::<Result<_, _>>()?;
    let rec = RecModel::load(model.as_ref(), 48)?;
    let input = rec.input();
    let mut best = vec![f64::INFINITY; widths.len()];
    for _ in 0..rounds {
        for (b, &w) in best.iter_mut().zip(&widths) {
            let zeros = vec![0.0; input.channels * input.height * w];
            let t0 = Instant::now();
            std::hint::black_box(rec.run(zeros, w)?);
            *b = b.min(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    let ms = best.iter().sum::<f64>() / best.len().max(1) as f64;
    println!(
        "{}",
        serde_json::json!({ "ms_per_plate": ms, "inputs": widths.len(), "rounds": rounds })
    );
    Ok(())
}
