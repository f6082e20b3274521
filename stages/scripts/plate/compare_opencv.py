#!/usr/bin/env python3
"""Side-by-side figures in one run: our plate detectors vs OpenCV's cascade
detector (OpenALPR's settings), and our decoder vs Pillow.

For each round, every photo is processed by
  * OpenCV: cv2.imread (color) + cvtColor(BGR2GRAY) + detectMultiScale2
    (scaleFactor 1.1, minNeighbors 3, minSize 65x18, cv2.setNumThreads(1)),
  * Pillow: Image.open + load + convert('RGB') (decoding only),
  * ours: `haul eval plates` (decode + gray + detect), single-thread
    and with threads across pyramid levels, with and without the cascade.
Times are the per-image minimum over the rounds, so that load from other
processes on a shared machine disturbs both sides alike.

Requires: pip install 'opencv-python-headless<5' pillow
Usage: stages/scripts/plate/compare_opencv.py --dataset DIR --cascade FILE [--rounds 3] [--bin HAUL]
(build first: cargo build --release -p haul-stages --bin haul --example plate_decode_bench)
"""
import argparse
import json
import os
import subprocess
import sys
import time


def load_truth(d):
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".txt"):
            f = open(os.path.join(d, name)).read().split()
            out.append((os.path.join(d, f[0]), tuple(int(v) for v in f[1:5])))
    return out


def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def opencv_round(cv2, clf, truth, times, boxes):
    for i, (path, _) in enumerate(truth):
        t0 = time.perf_counter()
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        t1 = time.perf_counter()
        rects, neighbors = clf.detectMultiScale2(gray, scaleFactor=1.1, minNeighbors=3, minSize=(65, 18))
        t2 = time.perf_counter()
        dec, det = (t1 - t0) * 1e3, (t2 - t1) * 1e3
        old = times[i]
        times[i] = (min(old[0], dec), min(old[1], det)) if old else (dec, det)
        ranked = sorted(zip([tuple(int(v) for v in r) for r in rects], [int(n) for n in neighbors]),
                        key=lambda rn: (-rn[1], -rn[0][2] * rn[0][3]))
        boxes[i] = [r for r, _ in ranked]


def pillow_pass(Image, truth, gray):
    """Mean ms per image over one pass (the statistic decode_bench uses)."""
    t0 = time.perf_counter()
    for path, _ in truth:
        with Image.open(path) as im:
            if gray:
                im.draft("L", im.size)
                out = im.convert("L")
            else:
                im.load()
                out = im.convert("RGB")
        del out
    return (time.perf_counter() - t0) * 1e3 / len(truth)


def ours_round(binary, dataset, extra, store):
    out = subprocess.run([binary, "eval", "plates", "--dataset", dataset, "--json", "--per-image"] + extra,
                         check=True, capture_output=True, text=True).stdout
    rep = json.loads(out)
    per = rep["per_image"]
    if store.get("report") is None:
        store["report"] = rep
        for k in ("ms", "decode_ms", "detect_ms"):
            store[k] = [r[k] for r in per]
    else:
        for k in ("ms", "decode_ms", "detect_ms"):
            store[k] = [min(a, r[k]) for a, r in zip(store[k], per)]
    n = len(per)
    store["decode"] = sum(store["decode_ms"]) / n
    store["detect"] = sum(store["detect_ms"]) / n


def decode_bench(binary, dataset):
    out = subprocess.run([binary, dataset, "3"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def recall(truth, boxes, k):
    return sum(1 for (_, t), b in zip(truth, boxes) if any(iou(t, r) >= 0.5 for r in b[:k])) / len(truth)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--cascade", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=None, help="haul binary (default: $CARGO_TARGET_DIR/release/haul)")
    ap.add_argument("--decode-bench", default=None,
                    help="plate_decode_bench example (default: $CARGO_TARGET_DIR/release/examples/plate_decode_bench)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        import cv2
        from PIL import Image
    except ImportError as e:
        print(f"missing Python package: {e}; pip install 'opencv-python-headless<5' pillow", file=sys.stderr)
        return 3
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "target"))
    binary = args.bin or os.path.join(target, "release", "haul")
    decoder = args.decode_bench or os.path.join(target, "release", "examples", "plate_decode_bench")
    cv2.setNumThreads(1)
    clf = cv2.CascadeClassifier(args.cascade)
    if clf.empty():
        print(f"cannot load {args.cascade}", file=sys.stderr)
        return 2
    truth = load_truth(args.dataset)
    n = len(truth)
    cv_times, cv_boxes = [None] * n, [None] * n
    pil, pil_l, dec = float("inf"), float("inf"), None
    runs = {
        "classical, 1 thread": ["--threads", "1"],
        "cascade, 1 thread": ["--cascade", args.cascade, "--threads", "1"],
        "cascade, all cores": ["--cascade", args.cascade, "--threads", "0"],
    }
    ours = {k: {} for k in runs}
    for _ in range(args.rounds):
        opencv_round(cv2, clf, truth, cv_times, cv_boxes)
        for _ in range(3):
            pil = min(pil, pillow_pass(Image, truth, False))
            pil_l = min(pil_l, pillow_pass(Image, truth, True))
        d = decode_bench(decoder, args.dataset)
        dec = d if dec is None else {k: min(v, d[k]) for k, v in dec.items()}
        for name, extra in runs.items():
            ours_round(binary, args.dataset, extra, ours[name])
    cv_dec = sum(t[0] for t in cv_times) / n
    cv_det = sum(t[1] for t in cv_times) / n
    rows = [("OpenCV %s cascade, 1 thread" % cv2.__version__, n, recall(truth, cv_boxes, 1),
             recall(truth, cv_boxes, 5), cv_dec + cv_det, cv_dec, cv_det)]
    for name, st in ours.items():
        r = st["report"]
        rows.append(("haul " + name, r["images"], r["top1_recall"], r["top5_recall"],
                     sum(st["ms"]) / n, st["decode"], st["detect"]))
    print(f"{'':38} {'images':>6} {'top1':>6} {'top5':>6} {'ms/img':>8} {'decode':>7} {'detect':>7}")
    for row in rows:
        print(f"{row[0]:38} {row[1]:>6} {row[2]:>6.3f} {row[3]:>6.3f} {row[4]:>8.2f} {row[5]:>7.2f} {row[6]:>7.2f}")
    print()
    print("decoding, ms per image (file read included; mean over the set, best of passes, same statistic both sides):")
    print(f"  Pillow {Image.__version__} RGB (open+load+convert RGB)      {pil:7.3f}")
    print(f"  haul decode(): RGB + EXIF/orientation          {dec['rgb_ms']:7.3f}  ({dec['rgb_ms'] / pil:.2f}x Pillow RGB)")
    print(f"  Pillow gray (draft 'L' + convert L)            {pil_l:7.3f}")
    print(f"  haul decode_gray(): gray + EXIF/orientation    {dec['gray_only_ms']:7.3f}  ({dec['gray_only_ms'] / pil_l:.2f}x Pillow gray, {dec['gray_only_ms'] / pil:.2f}x Pillow RGB)")
    print("  (detection uses decode_gray; artifacts() decodes colour only when artifacts are requested)")
    print(f"  image crate load_from_memory + to_rgb8         {dec['image_crate_rgb_ms']:7.3f}")
    c1 = ours["cascade, 1 thread"]["detect"]
    cm = ours["cascade, all cores"]["detect"]
    print(f"detection time vs OpenCV: 1 thread {c1 / cv_det:.2f}x, all cores ({os.cpu_count()}) {cm / cv_det:.2f}x of OpenCV's")

    if args.json:
        print(json.dumps({"rows": rows, "pillow_rgb_ms": pil, "pillow_gray_ms": pil_l, "ours_decode": dec}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
