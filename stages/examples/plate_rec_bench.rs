//! Times the recognition network alone (tract, one thread) on given input widths, the way
//! `scripts/plate/compare_rapidocr.py` times onnxruntime alone: one all-zero input of
//! `1 x channels x height x W` per width, the passes run in turn, the minimum per entry kept,
//! the mean over entries printed as JSON. The plan for each width is built before timing
//! (one untimed run per distinct width), as onnxruntime's session is; `haul` builds them on
//! first use, and its own figure includes that.
//! With `--profile`, prints instead the time of each kind of operation at each width
//! (summed over the network's nodes, the minimum over ROUNDS runs).
//! Needs haul-stages' `read` feature (on whenever the workspace builds the `haul` binary).
//!
//! cargo run --release -p haul-stages --features read --example plate_rec_bench -- [--profile] MODEL ROUNDS W...

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use haul_stages::plate::read::RecModel;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    let profile = args.next_if(|a| a == "--profile").is_some();
    let model = args
        .next()
        .expect("usage: plate_rec_bench [--profile] MODEL ROUNDS WIDTH...");
    let rounds: usize = args.next().expect("ROUNDS").parse()?;
    let widths: Vec<usize> = args.map(|w| w.parse()).collect::<Result<_, _>>()?;
    let rec = RecModel::load(model.as_ref(), 48)?;
    if profile {
        for &w in &widths {
            let nodes = rec.profile(w, rounds)?;
            let mut by_op: BTreeMap<String, (usize, f64)> = BTreeMap::new();
            for (op, _, ms) in &nodes {
                let e = by_op.entry(op.clone()).or_default();
                e.0 += 1;
                e.1 += ms;
            }
            let mut rows: Vec<_> = by_op.into_iter().collect();
            rows.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
            let total: f64 = nodes.iter().map(|n| n.2).sum();
            println!("width {w}: {total:.2} ms over {} nodes", nodes.len());
            if std::env::var_os("HAUL_PROFILE_NODES").is_some() {
                for (op, name, ms) in &nodes {
                    println!("    {ms:7.3} {op} {name}");
                }
            }
            for (op, (n, ms)) in rows {
                println!("  {ms:8.3} ms {n:4} x {op}");
            }
        }
        return Ok(());
    }
    let input = rec.input();
    // One untimed run per distinct width first: its plan is built then, as onnxruntime's
    // session is made before the script times it.
    let mut distinct = widths.clone();
    distinct.sort_unstable();
    distinct.dedup();
    for &w in &distinct {
        rec.run(vec![0.0; input.channels * input.height * w], w)?;
    }
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
