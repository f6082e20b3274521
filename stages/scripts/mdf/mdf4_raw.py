"""A tiny raw MDF 4.10 block writer for fixtures that asammdf's own writer cannot produce
(bit fields, big endian bit fields, unsorted data, HL/DL lists with records split across
blocks, invalidation bytes, virtual masters, nested conversions).

The files it writes are read by asammdf (the oracle) and by haul's reader; neither trusts
this writer.
"""

import struct
import zlib


class Writer:
    def __init__(self):
        ident = b"MDF     4.10    haulraw " + b"\0" * 4 + struct.pack("<H", 410)
        self.buf = bytearray(ident.ljust(64, b"\0"))
        hd_data = struct.pack("<QhhBBBBdd", 1_700_000_000_123_456_789, 60, 0, 2, 0, 0, 0, 0.0, 0.0)
        self.hd = self.block(b"##HD", [0] * 6, hd_data)
        assert self.hd == 64

    def block(self, ident, links, data=b""):
        while len(self.buf) % 8:
            self.buf.append(0)
        at = len(self.buf)
        length = 24 + 8 * len(links) + len(data)
        self.buf += ident + b"\0" * 4 + struct.pack("<QQ", length, len(links))
        for link in links:
            self.buf += struct.pack("<Q", link)
        self.buf += data
        return at

    def patch(self, block, i, target):
        struct.pack_into("<Q", self.buf, block + 24 + 8 * i, target)

    def tx(self, text):
        return self.block(b"##TX", [], text.encode("utf-8") + b"\0")

    def md(self, xml):
        return self.block(b"##MD", [], xml.encode("utf-8") + b"\0")

    def dt(self, data):
        return self.block(b"##DT", [], bytes(data))

    def dz(self, data, zip_type=0, columns=0):
        data = bytes(data)
        plain = data
        if zip_type == 1:
            rows = len(data) // columns
            body = bytearray(rows * columns)
            for r in range(rows):
                for c in range(columns):
                    body[c * rows + r] = data[r * columns + c]
            plain = bytes(body) + data[rows * columns:]
        zipped = zlib.compress(plain)
        head = b"DT" + struct.pack("<BBIQQ", zip_type, 0, columns, len(data), len(zipped))
        return self.block(b"##DZ", [], head + zipped)

    def dl(self, nxt, blocks, equal_length=None):
        if equal_length is not None:
            data = struct.pack("<B3xIQ", 1, len(blocks), equal_length)
        else:
            data = struct.pack("<B3xI", 0, len(blocks)) + b"\0" * 8 * len(blocks)
        return self.block(b"##DL", [nxt] + list(blocks), data)

    def hl(self, first_dl, zip_type=0):
        return self.block(b"##HL", [first_dl], struct.pack("<HB5x", 1, zip_type))

    def cc(self, cc_type, vals=(), refs=(), unit=0):
        data = struct.pack("<BBHHHdd", cc_type, 0, 0, len(refs), len(vals), 0.0, 0.0)
        data += b"".join(struct.pack("<d", v) for v in vals)
        return self.block(b"##CC", [0, unit, 0, 0] + list(refs), data)

    def cn(self, nxt, name, data_type, byte_offset, bit_count, bit_offset=0, cn_type=0,
           sync_type=0, inval_bit=None, conversion=0, unit=None, data=0):
        flags = 0 if inval_bit is None else 2
        body = struct.pack("<BBBBIIIIBBH", cn_type, sync_type, data_type, bit_offset, byte_offset,
                           bit_count, flags, inval_bit or 0, 0, 0, 0)
        body += struct.pack("<6d", 0, 0, 0, 0, 0, 0)
        unit_link = self.tx(unit) if unit else 0
        return self.block(b"##CN", [nxt, 0, self.tx(name), 0, conversion, data, unit_link, 0], body)

    def cg(self, nxt, first_cn, record_id, cycles, data_bytes, inval_bytes, name=None, flags=0):
        body = struct.pack("<QQHH4xII", record_id, cycles, flags, 0, data_bytes, inval_bytes)
        acq = self.tx(name) if name else 0
        return self.block(b"##CG", [nxt, first_cn, acq, 0, 0, 0], body)

    def dg(self, nxt, first_cg, data, rec_id_size=0):
        return self.block(b"##DG", [nxt, first_cg, data, 0], struct.pack("<B7x", rec_id_size))

    def channels(self, specs):
        """Write a CN chain from a list of keyword dicts, return the first CN."""
        nxt = 0
        for spec in reversed(specs):
            nxt = self.cn(nxt, **spec)
        return nxt

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.buf)
