"""Read MDF4 files with asammdf and dump every channel's values as JSON: the oracle that
haul's MDF reader is compared with.

    python3 stages/scripts/mdf/asammdf_oracle.py FILE.mf4 [FILE.mf4 ...]

For each FILE it writes FILE.oracle.json:
  {"asammdf": version, "groups": [{"name": acq name, "channels": [
      {"name", "unit", "channel_type" (cn_type), "values": [...], "invalid": [bool] | null,
       "timestamps": [...]}]}]}
"cc_unit" is the unit of the channel's conversion (asammdf's Signal.unit leaves it out when
the CN has no unit; the MDF4 specification applies it). With ignore_invalidation_bits=True
every sample is listed and "invalid" flags the invalid ones.

One documented exception: asammdf 8.8.28 maps integer raw values through a value-range-to-
value conversion (CC type 6) wrongly (it matches the gap after each range). For those
channels the values are computed here from asammdf's raw samples (raw=True) and asammdf's
parsed conversion parameters, with the inclusive integer ranges of the specification, and
"note" says so.

Values: integers as JSON integers, floats as JSON numbers (exact), text as {"t": str},
byte arrays as {"b": hex}. Groups are asammdf's groups in order (variable-length signal
data groups are not groups in asammdf).
"""

import json
import sys

import numpy as np


def encode(samples):
    kind = samples.dtype.kind
    if samples.ndim > 1 and kind == "u":
        return [{"b": bytes(row.astype("u1")).hex()} for row in samples]
    if kind in "iu":
        return [int(v) for v in samples]
    if kind == "f":
        return [float(v) for v in samples]
    if kind == "S":
        return [{"t": v.decode("utf-8", "replace")} for v in samples]
    if kind == "O":
        return [{"t": v.decode("utf-8", "replace")} if isinstance(v, bytes) else v for v in samples]
    if kind == "U":
        return [{"t": str(v)} for v in samples]
    raise TypeError(f"unexpected dtype {samples.dtype}")


def spec_rtab_int(mdf, g, i, conversion):
    """Integer raw values through a range-to-value table, ranges inclusive (ASAM MDF 4)."""
    raw = mdf.get(group=g, index=i, raw=True, ignore_invalidation_bits=True).samples
    nr = (conversion.val_param_nr - 1) // 3
    table = [(conversion[f"lower_{k}"], conversion[f"upper_{k}"], conversion[f"phys_{k}"]) for k in range(nr)]
    out = []
    for x in raw.tolist():
        hit = [p for lo, hi, p in table if lo <= x <= hi]
        out.append(float(hit[0] if hit else conversion.default))
    return out


def dump(path):
    import asammdf
    from asammdf import MDF

    mdf = MDF(path)
    groups = []
    for g, group in enumerate(mdf.groups):
        channels = []
        for i, ch in enumerate(group.channels):
            sig = mdf.get(group=g, index=i, ignore_invalidation_bits=True)
            inval = sig.invalidation_bits
            conversion = ch.conversion
            values = encode(np.asarray(sig.samples))
            note = None
            if conversion is not None and conversion.conversion_type == 6 and ch.data_type <= 3:
                values = spec_rtab_int(mdf, g, i, conversion)
                note = "integer range-to-value: asammdf raw samples, inclusive ranges (asammdf 8.8.28 bug)"
            channels.append({
                "name": ch.name,
                "unit": sig.unit,
                "cc_unit": (conversion.unit if conversion is not None else "") or "",
                "note": note,
                "channel_type": int(ch.channel_type),
                "values": values,
                "invalid": None if inval is None else [bool(v) for v in np.asarray(inval)],
                "timestamps": [float(v) for v in sig.timestamps],
            })
        groups.append({"name": group.channel_group.acq_name, "channels": channels})
    mdf.close()
    with open(path + ".oracle.json", "w") as f:
        json.dump({"asammdf": asammdf.__version__, "groups": groups}, f)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        dump(path)


if __name__ == "__main__":
    main()
