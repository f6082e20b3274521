"""Generate the MDF4 interop fixtures.

    python3 stages/scripts/mdf/gen_fixtures.py OUTDIR

Writes, with a fixed seed (the same files every run):
  asammdf_plain.mf4, asammdf_deflate.mf4, asammdf_transposed.mf4
      written by asammdf's own writer (compression 0, 1, 2): integer, float, big endian and
      byte-array channels; linear, rational, value-to-text, range-to-text, lookup tables
      with and without interpolation, range-to-value; invalidation bits; several groups.
  raw_bits.mf4
      bit fields at odd offsets and widths, little and big endian, signed and unsigned,
      invalidation bits in two bytes, data in HL -> DL -> (DT, DZ, transposed DZ, DT) with
      records split across blocks.
  raw_unsorted.mf4
      one unsorted data group with three channel groups (1-byte record ids), one of them
      variable-length signal data, and a virtual time master.
  raw_conversions.mf4
      range-to-value on float and integer raw values, range-to-text, a nearest-key table,
      a full rational, a unit declared only by the conversion.

asammdf (stages/scripts/mdf/requirements.txt) is needed for the asammdf_* files only.
"""

import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mdf4_raw import Writer  # noqa: E402


def put(rec, byte_offset, bit_offset, bit_count, value, big_endian=False):
    """Store `value` in `bit_count` bits at (byte_offset, bit_offset) of a record."""
    n = (bit_offset + bit_count + 7) // 8
    order = "big" if big_endian else "little"
    word = int.from_bytes(rec[byte_offset:byte_offset + n], order)
    mask = ((1 << bit_count) - 1) << bit_offset
    word = (word & ~mask) | ((value & ((1 << bit_count) - 1)) << bit_offset)
    rec[byte_offset:byte_offset + n] = word.to_bytes(n, order)


def asammdf_files(out):
    from asammdf import MDF, Signal

    rng = np.random.default_rng(7)
    n = 1000
    t = np.arange(n, dtype="f8") * 0.01 + 0.5
    types = [
        Signal(rng.integers(0, 256, n).astype("u1"), t, name="u8", unit="count"),
        Signal(rng.integers(-128, 128, n).astype("i1"), t, name="i8"),
        Signal(rng.integers(0, 65536, n).astype("u2"), t, name="u16"),
        Signal(rng.integers(-32768, 32768, n).astype("i2"), t, name="i16"),
        Signal(rng.integers(0, 2**32, n, dtype="u8").astype("u4"), t, name="u32"),
        Signal(rng.integers(-2**31, 2**31, n).astype("i4"), t, name="i32"),
        Signal(rng.integers(2**60, 2**64 - 1, n, dtype="u8"), t, name="u64_big", comment="beyond 2^53"),
        Signal(rng.integers(-2**63, 2**63 - 1, n, dtype="i8"), t, name="i64"),
        Signal((rng.standard_normal(n) * 1e3).astype("f4"), t, name="f32", unit="V"),
        Signal(rng.standard_normal(n) * 1e-3, t, name="f64", unit="A"),
        Signal(rng.integers(0, 65536, n).astype(">u2"), t, name="be_u16"),
        Signal(rng.integers(-2**31, 2**31, n).astype(">i4"), t, name="be_i32"),
        Signal((rng.standard_normal(n) * 5).astype(">f4"), t, name="be_f32"),
        Signal(rng.standard_normal(n).astype(">f8") * 1e6, t, name="be_f64"),
        Signal(rng.integers(0, 256, (n, 5)).astype("u1"), t, name="bytes5"),
    ]
    m = 500
    t2 = np.arange(m, dtype="f8") * 0.02
    raw8 = (np.arange(m) % 12).astype("u1")
    raw16 = rng.integers(0, 1000, m).astype("u2")
    vtt = {"val_0": 0, "text_0": "off", "val_1": 1, "text_1": "on", "val_2": 2, "text_2": "error",
           "default_addr": "unknown"}
    rtt = {"lower_0": 0, "upper_0": 3, "text_0": "low", "lower_1": 4, "upper_1": 7, "text_1": "mid",
           "lower_2": 8, "upper_2": 9, "text_2": "high", "default_addr": "none"}
    tab = {"raw_0": 0, "phys_0": 0.0, "raw_1": 100, "phys_1": 5.0, "raw_2": 500, "phys_2": 7.5,
           "raw_3": 900, "phys_3": 100.0}
    conversions = [
        Signal(raw16, t2, name="lin", unit="degC", conversion={"a": 0.1, "b": -40.0}),
        Signal(rng.integers(-500, 500, m).astype("i2"), t2, name="rat",
               conversion={"P1": 0.0, "P2": 2.0, "P3": 1.0, "P4": 0.0, "P5": 0.0, "P6": 4.0}),
        Signal(rng.integers(1, 500, m).astype("i2"), t2, name="rat_full",
               conversion={"P1": 1.0, "P2": 2.0, "P3": 3.0, "P4": 0.5, "P5": 1.5, "P6": 7.0}),
        Signal(raw8 % 4, t2, name="vtt", conversion=vtt),
        Signal(raw8, t2, name="rtt", conversion=rtt),
        Signal(raw16, t2, name="tab_nearest", conversion=dict(tab)),
        Signal(raw16, t2, name="tab_interp", conversion=dict(tab, interpolation=True)),
        Signal(raw16.astype("f8") * 0.5, t2, name="rtab_float",
               conversion={"lower_0": 0.0, "upper_0": 100.0, "phys_0": 1.0, "lower_1": 100.0,
                           "upper_1": 250.0, "phys_1": 2.0, "default": -1.0}),
    ]
    k = 300
    t3 = np.arange(k, dtype="f8") * 0.1 + 10
    inval = (np.arange(k) % 7) == 3
    invalid = [
        Signal(rng.integers(0, 1000, k).astype("u2"), t3, name="maybe_u16", invalidation_bits=inval),
        Signal(rng.standard_normal(k), t3, name="maybe_f64", invalidation_bits=(np.arange(k) % 5) == 0),
    ]
    mdf = MDF(version="4.10")
    mdf.append(types, acq_name="types", comment="integer, float, big endian and byte channels")
    mdf.append(conversions, acq_name="conversions")
    mdf.append(invalid, acq_name="invalidation")
    for name, compression in (("plain", 0), ("deflate", 1), ("transposed", 2)):
        mdf.save(os.path.join(out, f"asammdf_{name}.mf4"), overwrite=True, compression=compression)


def raw_bits(out):
    rng = np.random.default_rng(11)
    w = Writer()
    lin = w.cc(1, [-3.0, 0.5])
    specs = [
        dict(name="t", data_type=4, byte_offset=0, bit_count=64, cn_type=2, sync_type=1, unit="s"),
        dict(name="a_u3", data_type=0, byte_offset=8, bit_count=3),
        dict(name="b_i5", data_type=2, byte_offset=8, bit_offset=3, bit_count=5),
        dict(name="c_u12", data_type=0, byte_offset=9, bit_count=12),
        dict(name="d_i12", data_type=2, byte_offset=10, bit_offset=4, bit_count=12),
        dict(name="e_be_u12", data_type=1, byte_offset=12, bit_count=12),
        dict(name="f_be_i10", data_type=3, byte_offset=14, bit_offset=3, bit_count=10),
        dict(name="g_bit", data_type=0, byte_offset=16, bit_offset=7, bit_count=1),
        dict(name="h_u20", data_type=0, byte_offset=17, bit_offset=2, bit_count=20),
        dict(name="i_be_u24", data_type=1, byte_offset=20, bit_count=24),
        dict(name="j_i64", data_type=2, byte_offset=24, bit_count=64, inval_bit=0),
        dict(name="k_f32", data_type=4, byte_offset=32, bit_count=32, inval_bit=1),
        dict(name="l_lin", data_type=0, byte_offset=36, bit_count=16, inval_bit=9, conversion=lin, unit="bar"),
    ]
    first = w.channels(specs)
    n, size = 997, 40
    data = bytearray()
    for i in range(n):
        rec = bytearray(size)
        rec[0:8] = struct.pack("<d", i * 0.005)
        for spec in specs[1:10]:
            bits = spec["bit_count"]
            put(rec, spec["byte_offset"], spec.get("bit_offset", 0), bits,
                int(rng.integers(0, 1 << bits)), spec["data_type"] in (1, 3))
        rec[24:32] = struct.pack("<q", int(rng.integers(-2**62, 2**62)))
        rec[32:36] = struct.pack("<f", float(rng.standard_normal()))
        rec[36:38] = struct.pack("<H", int(rng.integers(0, 65536)))
        inval = (i % 7 == 3) | ((i % 5 == 0) << 1) | ((i % 11 == 4) << 9)
        rec[38:40] = struct.pack("<H", inval)
        data += rec
    cuts = [0, 10_001, 20_003, 30_333, len(data)]
    parts = [data[a:b] for a, b in zip(cuts, cuts[1:])]
    b1, b2 = w.dt(parts[0]), w.dz(parts[1])
    b3, b4 = w.dz(parts[2], 1, size), w.dt(parts[3])
    dl2 = w.dl(0, [b3, b4])
    dl1 = w.dl(dl2, [b1, b2])
    cg = w.cg(0, first, 0, n, 38, 2, name="bits")
    dg = w.dg(0, cg, w.hl(dl1))
    w.patch(w.hd, 0, dg)
    w.save(os.path.join(out, "raw_bits.mf4"))


def raw_unsorted(out):
    rng = np.random.default_rng(13)
    w = Writer()
    vlsd_cg = w.cg(0, 0, 3, 0, 0, 0, flags=1)
    speed_conv = w.cc(1, [0.0, 0.1])
    cg1_cns = w.channels([
        dict(name="t", data_type=4, byte_offset=0, bit_count=64, cn_type=2, sync_type=1, unit="s"),
        dict(name="speed", data_type=0, byte_offset=8, bit_count=16, conversion=speed_conv, unit="km/h"),
        dict(name="label", data_type=7, byte_offset=10, bit_count=64, cn_type=1, data=vlsd_cg),
    ])
    vm_conv = w.cc(1, [1.0, 0.01])
    cg2_cns = w.channels([
        dict(name="t2", data_type=0, byte_offset=0, bit_count=0, cn_type=3, sync_type=1,
             conversion=vm_conv, unit="s"),
        dict(name="temp", data_type=2, byte_offset=0, bit_count=32),
        dict(name="pressure", data_type=4, byte_offset=4, bit_count=64),
    ])
    data = bytearray()
    vlsd_pos, n1, n2, n3 = 0, 300, 0, 0
    for i in range(n1):
        label = ("item-%d" % i + "x" * (i % 9)).encode()
        data += struct.pack("<BdHQ", 1, i * 0.1, int(rng.integers(0, 3000)), vlsd_pos)
        data += struct.pack("<BI", 3, len(label)) + label
        vlsd_pos += 4 + len(label)
        n3 += 1
        if i % 2 == 0:
            data += struct.pack("<Bid", 2, int(rng.integers(-50, 150)), float(rng.uniform(0.9, 1.1)))
            n2 += 1
    cg3 = vlsd_cg
    struct.pack_into("<QQ", w.buf, cg3 + 24 + 6 * 8, 3, n3)
    struct.pack_into("<II", w.buf, cg3 + 24 + 6 * 8 + 24, vlsd_pos & 0xFFFFFFFF, vlsd_pos >> 32)
    cg2 = w.cg(cg3, cg2_cns, 2, n2, 12, 0, name="climate")
    cg1 = w.cg(cg2, cg1_cns, 1, n1, 18, 0, name="drive")
    dg = w.dg(0, cg1, w.dt(data), rec_id_size=1)
    w.patch(w.hd, 0, dg)
    w.save(os.path.join(out, "raw_unsorted.mf4"))


def raw_conversions(out):
    w = Writer()
    kmh = w.tx("km/h")
    text = [w.tx(s) for s in ("low", "high", "out")]
    specs = [
        dict(name="t", data_type=4, byte_offset=0, bit_count=64, cn_type=2, sync_type=1, unit="s"),
        dict(name="rtab_f64", data_type=4, byte_offset=8, bit_count=64,
             conversion=w.cc(6, [0.0, 10.0, 1.0, 10.0, 20.0, 2.0, -1.0])),
        dict(name="rtab_u8", data_type=0, byte_offset=16, bit_count=8,
             conversion=w.cc(6, [0.0, 9.0, 1.0, 10.0, 19.0, 2.0, -1.0])),
        dict(name="rtt_f32", data_type=4, byte_offset=17, bit_count=32,
             conversion=w.cc(8, [0.0, 0.5, 0.5, 1.0], text)),
        dict(name="tab_i16", data_type=2, byte_offset=21, bit_count=16,
             conversion=w.cc(5, [-100.0, 1.0, 0.0, 2.0, 50.0, 3.0])),
        dict(name="rat_i8", data_type=2, byte_offset=23, bit_count=8,
             conversion=w.cc(2, [0.5, -1.0, 2.0, 0.25, 1.0, 9.0])),
        dict(name="unit_from_cc", data_type=0, byte_offset=24, bit_count=16,
             conversion=w.cc(1, [0.0, 2.0], unit=kmh)),
    ]
    first = w.channels(specs)
    n, data = 60, bytearray()
    for i in range(n):
        x = i * 0.5 - 2.0
        data += struct.pack("<ddBfhbH", i * 0.25, x, (i * 3) % 25, (i - 5) / 50.0, i * 7 - 150,
                            i % 100 - 30, i * 1000)
    cg = w.cg(0, first, 0, n, 26, 0, name="conversions")
    dg = w.dg(0, cg, w.dt(data))
    w.patch(w.hd, 0, dg)
    w.save(os.path.join(out, "raw_conversions.mf4"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    raw_bits(out)
    raw_unsorted(out)
    raw_conversions(out)
    asammdf_files(out)


if __name__ == "__main__":
    main()
