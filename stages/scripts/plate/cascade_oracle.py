#!/usr/bin/env python3
"""OpenCV oracle for the cascade parity test and the speed comparison.

Runs cv2.CascadeClassifier.detectMultiScale on 8-bit gray images (PNG files
are read as they are; other files are decoded and converted to gray by
OpenCV) and prints JSON: the raw candidates (minNeighbors=0, which OpenCV
returns ungrouped), the grouped boxes, and the time per image.

Requires: pip install 'opencv-python-headless<5'   (numpy comes with it)

Exit status 3 means the oracle itself is unavailable (cv2 missing), so that a
caller can tell "no oracle" from "oracle failed".
"""
import argparse
import json
import os
import sys
import time


def cascade_dirs(cv2):
    """Folders holding OpenCV's own cascades (pip wheel, Debian opencv-data)."""
    dirs = []
    data = getattr(cv2, "data", None)
    if data is not None and os.path.isdir(getattr(data, "haarcascades", "")):
        dirs.append(data.haarcascades)
    for d in ("/usr/share/opencv4/haarcascades", "/usr/share/opencv4/lbpcascades",
              "/usr/share/opencv/haarcascades", "/usr/share/opencv/lbpcascades"):
        if os.path.isdir(d):
            dirs.append(d)
    return dirs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cascade")
    ap.add_argument("--scale-factor", type=float, default=1.1)
    ap.add_argument("--min-neighbors", type=int, default=3)
    ap.add_argument("--min-size", type=int, nargs=2, default=(0, 0))
    ap.add_argument("--max-size", type=int, nargs=2, default=(0, 0))
    ap.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads; 0 = OpenCV default")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per image (best is kept)")
    ap.add_argument("--no-candidates", action="store_true", help="skip the minNeighbors=0 pass")
    ap.add_argument("--list-cascade-dirs", action="store_true")
    ap.add_argument("images", nargs="*")
    args = ap.parse_args()
    try:
        import cv2
    except ImportError as e:
        print(f"oracle unavailable: {e}", file=sys.stderr)
        return 3
    if args.list_cascade_dirs:
        print(json.dumps({"opencv": cv2.__version__, "dirs": cascade_dirs(cv2)}))
        return 0
    if args.threads > 0:
        cv2.setNumThreads(args.threads)
    clf = cv2.CascadeClassifier(args.cascade)
    if clf.empty():
        print(f"cannot load cascade {args.cascade}", file=sys.stderr)
        return 2
    results = []
    for path in args.images:
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if gray is None:
            print(f"cannot read {path}", file=sys.stderr)
            return 2
        kw = dict(scaleFactor=args.scale_factor, minSize=tuple(args.min_size), maxSize=tuple(args.max_size))
        best = None
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            grouped, neighbors = clf.detectMultiScale2(gray, minNeighbors=args.min_neighbors, **kw)
            dt = (time.perf_counter() - t0) * 1000.0
            best = dt if best is None else min(best, dt)
        entry = {
            "file": path,
            "width": int(gray.shape[1]),
            "height": int(gray.shape[0]),
            "grouped": [[int(v) for v in r] + [int(n)] for r, n in zip(grouped, neighbors)],
            "ms": best,
        }
        if not args.no_candidates:
            cands = clf.detectMultiScale(gray, minNeighbors=0, **kw)
            entry["candidates"] = [[int(v) for v in r] for r in cands]
        results.append(entry)
    print(json.dumps({"opencv": cv2.__version__, "threads": cv2.getNumThreads(), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
