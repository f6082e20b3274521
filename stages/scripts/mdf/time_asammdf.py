"""Time asammdf reading an MDF4 file: open it, load every channel of every group
(MDF.select, which reads each group's data once) and compute min, max and mean of each,
the same work haul's summarize_file does. Prints one JSON line:
    {"asammdf": version, "seconds": best, "runs": [...], "bytes": file size, "channels": n}

    python3 stages/scripts/mdf/time_asammdf.py FILE [REPEAT]
"""

import json
import os
import sys
import time

import numpy as np


def read_once(path):
    from asammdf import MDF

    mdf = MDF(path)
    wanted = [(None, g, i) for g, group in enumerate(mdf.groups) for i in range(len(group.channels))]
    stats = []
    for sig in mdf.select(wanted):
        samples = np.asarray(sig.samples)
        stats.append((float(samples.min()), float(samples.max()), float(samples.mean())))
    mdf.close()
    return stats


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    import asammdf

    path = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    runs = []
    stats = []
    for _ in range(repeat):
        start = time.perf_counter()
        stats = read_once(path)
        runs.append(time.perf_counter() - start)
    print(json.dumps({"asammdf": asammdf.__version__, "seconds": min(runs), "runs": runs,
                      "bytes": os.path.getsize(path), "channels": len(stats)}))


if __name__ == "__main__":
    main()
