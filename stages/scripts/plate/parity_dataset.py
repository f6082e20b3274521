#!/usr/bin/env python3
"""Box-for-box parity of the Rust cascade with OpenCV on a folder of photos.

Each photo is decoded to gray by OpenCV (cv2.imread IMREAD_GRAYSCALE) and
written as PNG to a temporary folder, so both sides see the same pixels;
then stages/scripts/plate/cascade_oracle.py and the `plate_cascade_dump` example run with the
same parameters and their raw candidates and grouped boxes are compared.

Requires: pip install 'opencv-python-headless<5'
Usage: stages/scripts/plate/parity_dataset.py --dataset DIR --cascade FILE [--min-size 65 18] [--bin PATH]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--cascade", required=True)
    ap.add_argument("--scale-factor", default="1.1")
    ap.add_argument("--min-neighbors", default="3")
    ap.add_argument("--min-size", nargs=2, default=("65", "18"))
    ap.add_argument("--bin", default=None, help="cascade_dump binary")
    args = ap.parse_args()
    try:
        import cv2
    except ImportError as e:
        print(f"missing Python package: {e}", file=sys.stderr)
        return 3
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(here, "..", "..", "..", "target"))
    binary = args.bin or os.path.join(target, "release", "examples", "plate_cascade_dump")
    with tempfile.TemporaryDirectory() as tmp:
        pngs = []
        for path in sorted(glob.glob(os.path.join(args.dataset, "*.jpg"))):
            out = os.path.join(tmp, os.path.basename(path)[:-4] + ".png")
            cv2.imwrite(out, cv2.imread(path, cv2.IMREAD_GRAYSCALE))
            pngs.append(out)
        common = [args.scale_factor, args.min_neighbors, *args.min_size]
        cv = json.loads(subprocess.run(
            [sys.executable, os.path.join(here, "cascade_oracle.py"), "--cascade", args.cascade,
             "--scale-factor", args.scale_factor, "--min-neighbors", args.min_neighbors,
             "--min-size", *args.min_size, *pngs], check=True, capture_output=True, text=True).stdout)
        rs = json.loads(subprocess.run([binary, args.cascade, *common, *pngs],
                                       check=True, capture_output=True, text=True).stdout)
    same_c = same_g = 0
    for a, b in zip(cv["results"], rs["results"]):
        ca, cb = sorted(map(tuple, a["candidates"])), sorted(map(tuple, b["candidates"]))
        ga, gb = sorted(map(tuple, a["grouped"])), sorted(map(tuple, b["grouped"]))
        same_c += ca == cb
        same_g += ga == gb
        if ca != cb or ga != gb:
            print(f"differs: {os.path.basename(a['file'])}")
    n = len(cv["results"])
    print(f"OpenCV {cv['opencv']}: {n} images, raw candidates identical on {same_c}, grouped boxes identical on {same_g}")
    return 0 if same_c == n and same_g == n else 1


if __name__ == "__main__":
    sys.exit(main())
