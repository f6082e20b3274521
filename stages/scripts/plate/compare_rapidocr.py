#!/usr/bin/env python3
"""Side-by-side figures in one run: haul's plate reader (tract, pure Rust) against
RapidOCR 1.4.4's recogniser (onnxruntime) running the same ONNX model on the same
ground-truth crops.

  * haul: `haul eval plates --read --model MODEL --json --per-image` (its own line
    extraction: deskew, rows, strip, polarity; formats; tract runs single-threaded).
  * RapidOCR: TextRecognizer on the crop of the ground-truth box (BGR, as cv2 reads it),
    its own resize to 48 x max(320, 48*w/h) and CTC decoding; onnxruntime with 1 thread
    and with its default (all cores).
  * onnxruntime alone on inputs of exactly the shapes haul fed tract (1 x 3 x 48 x W per
    plate), 1 thread, and tract alone on the same inputs in the same way (the
    plate_rec_bench example, given with --rec-bench): the inference engines compared on
    equal work, each after one untimed run per input shape (tract builds its plan for a
    width then). haul's own figure adds its line extraction, decoding and, on the first
    plate of each width, tract's plan for that width.
Texts are compared after upper-casing and keeping letters and digits only, like
`haul eval`. Times are per plate, the minimum over --rounds passes for each side.

Requires: pip install rapidocr-onnxruntime==1.4.4 (brings onnxruntime, opencv, numpy)
Usage: compare_rapidocr.py --dataset DIR --model rec.onnx [--bin HAUL] [--rec-bench EXAMPLE]
                           [--cascade FILE] [--rounds 3]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time


def load_truth(d):
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".txt"):
            f = open(os.path.join(d, name)).read().split()
            out.append((os.path.join(d, f[0]), tuple(int(v) for v in f[1:5]), norm("".join(f[5:]))))
    return out


def norm(s):
    return re.sub("[^A-Z0-9]", "", s.upper())


def edit(a, b):
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diag, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (ca != cb))
    return row[-1]


def figures(truths, texts):
    n = len(truths)
    exact = sum(1 for t, x in zip(truths, texts) if t == x) / n
    chars = sum(len(t) for t in truths)
    acc = 1 - sum(edit(x, t) for t, x in zip(truths, texts)) / max(chars, 1)
    return exact, acc


def rapidocr_pass(rec, crops):
    texts, times = [], []
    for crop in crops:
        t0 = time.perf_counter()
        (res,), _ = rec(crop)
        times.append((time.perf_counter() - t0) * 1e3)
        texts.append(norm(res[0]))
    return texts, times


def ort_same_shapes(ort, np, model, widths, rounds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    for w in sorted(set(widths)):  # one untimed run per shape, as plate_rec_bench does
        s.run(None, {name: np.zeros((1, 3, 48, w), np.float32)})
    best = [float("inf")] * len(widths)
    for _ in range(rounds):
        for i, w in enumerate(widths):
            x = np.zeros((1, 3, 48, w), np.float32)
            t0 = time.perf_counter()
            s.run(None, {name: x})
            best[i] = min(best[i], (time.perf_counter() - t0) * 1e3)
    return sum(best) / len(best)


def tract_same_shapes(binary, model, widths, rounds):
    cmd = [binary, model, str(rounds)] + [str(w) for w in widths]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["ms_per_plate"]


def haul_pass(binary, dataset, model, cascade):
    cmd = [binary, "eval", "plates", "--dataset", dataset, "--read", "--model", model, "--json", "--per-image"]
    if cascade:
        cmd += ["--cascade", cascade]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cascade", default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=None, help="haul binary (default: $CARGO_TARGET_DIR/release/haul)")
    ap.add_argument("--rec-bench", default=None,
                    help="plate_rec_bench example (default: $CARGO_TARGET_DIR/release/examples/plate_rec_bench)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        import cv2
        import numpy as np
        import onnxruntime as ort
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
    except ImportError as e:
        print(f"missing Python package: {e}; pip install rapidocr-onnxruntime==1.4.4", file=sys.stderr)
        return 3
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "target"))
    binary = args.bin or os.path.join(target, "release", "haul")
    rec_bench = args.rec_bench or os.path.join(target, "release", "examples", "plate_rec_bench")
    truth = load_truth(args.dataset)
    truths = [t for _, _, t in truth]
    crops = []
    for path, (x, y, w, h), _ in truth:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        crops.append(img[max(0, y):y + h, max(0, x):x + w])
    rec = {}
    for threads in (1, -1):
        rec[threads] = TextRecognizer({"intra_op_num_threads": threads, "inter_op_num_threads": threads,
                                       "use_cuda": False, "use_dml": False, "model_path": args.model,
                                       "rec_img_shape": [3, 48, 320], "rec_batch_num": 6})
    rapid = {t: (None, [float("inf")] * len(crops)) for t in rec}
    haul_ms, report = [float("inf")] * len(crops), None
    for _ in range(args.rounds):
        for t, r in rec.items():
            texts, times = rapidocr_pass(r, crops)
            rapid[t] = (texts, [min(a, b) for a, b in zip(rapid[t][1], times)])
        report = haul_pass(binary, args.dataset, args.model, args.cascade)
        per = [p for p in report["per_image"] if "read_ms" in p]
        haul_ms = [min(a, p["read_ms"]) for a, p in zip(haul_ms, per)]
    widths = [p["input_width"] for p in report["per_image"] if "input_width" in p]
    ort_ms = ort_same_shapes(ort, np, args.model, widths, args.rounds)
    tract_ms = tract_same_shapes(rec_bench, args.model, widths, args.rounds) if os.path.exists(rec_bench) else None
    n = len(crops)
    rows = []
    for t, (texts, times) in rapid.items():
        e, a = figures(truths, texts)
        label = "1 thread" if t == 1 else f"default threads ({os.cpu_count()} cores)"
        rows.append((f"RapidOCR {TextRecognizer.__module__.split('.')[0]} 1.4.4 + onnxruntime {ort.__version__}, {label}",
                     e, a, sum(times) / n))
    rows.append((f"onnxruntime {ort.__version__} alone, haul's input shapes, 1 thread", None, None, ort_ms))
    if tract_ms is not None:
        rows.append(("tract alone (haul's network), haul's input shapes, 1 thread", None, None, tract_ms))
    rows.append(("haul (tract, 1 thread)", report["text_exact_on_truth_box"], report["text_char_accuracy"],
                 sum(haul_ms) / n))
    print(f"{'reader on the ground-truth boxes':72} {'exact':>6} {'chars':>6} {'ms/plate':>9}")
    for name, e, a, ms in rows:
        es = f"{e:6.3f}" if e is not None else f"{'-':>6}"
        acs = f"{a:6.3f}" if a is not None else f"{'-':>6}"
        print(f"{name:72} {es} {acs} {ms:9.2f}")
    print(f"haul end to end ({report['detector']} detector, top-ranked box): exact {report['text_exact_end_to_end']:.3f}")
    print(f"haul mean input width {sum(widths) / max(len(widths), 1):.0f} px; RapidOCR pads every crop to >= 320 px")
    if args.json:
        print(json.dumps({"rows": rows, "haul": {k: v for k, v in report.items() if k != "per_image"}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
