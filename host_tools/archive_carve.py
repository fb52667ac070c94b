"""Carving session bytes out of a damaged archive file, page by page, without SQLite.

When garbage lands in an interior page of a table's b-tree, SQLite can no longer reach the rows below it,
though they are intact on their own pages. This reads every page that looks like a table leaf (SQLite's
file format, sqlite.org/fileformat2.html: cell pointers, varints, overflow chains, record serial types),
decodes each cell's record, and keeps two kinds of row: a session row (its raw bytes, column 23, match its
sha256, column 3; columns added later follow raw) and a device-file row (its data match its sha256). Nothing
is trusted that does not verify by hash; a cell that does not parse is skipped. The file is only read.
"""
from __future__ import annotations

import hashlib

HEADER = b"SQLite format 3\x00"
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
MAX_CHAIN = 100000  # overflow pages followed for one cell (a loop in garbage must end)


def _varint(b: bytes, i: int) -> tuple[int, int]:
    v = 0
    for k in range(9):
        c = b[i + k]
        if k == 8:
            return (v << 8) | c, i + 9
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i + k + 1
    raise ValueError("varint")


def _record(payload: bytes) -> list:
    hlen, i = _varint(payload, 0)
    if hlen > len(payload) or hlen < 1:
        raise ValueError("record header")
    types = []
    while i < hlen:
        t, i = _varint(payload, i)
        types.append(t)
    pos = hlen
    out: list = []
    for t in types:
        if t == 0:
            out.append(None)
            continue
        if t in (8, 9):
            out.append(t - 8)
            continue
        if 1 <= t <= 6:
            n = (1, 2, 3, 4, 6, 8)[t - 1]
            out.append(int.from_bytes(payload[pos:pos + n], "big", signed=True))
        elif t == 7:
            n = 8
            out.append(None)
        elif t >= 12:
            n = (t - 12) // 2
            v = payload[pos:pos + n]
            out.append(v.decode("utf-8", "replace") if t % 2 else bytes(v))
        else:
            raise ValueError("serial type %d" % t)
        pos += n
        if pos > len(payload):
            raise ValueError("record overruns its payload")
    return out


def _cells(data: bytes, ps: int, usable: int):
    """Each table-leaf cell's record values, from every page that looks like a table leaf."""
    n_pages = len(data) // ps
    for pno in range(1, n_pages + 1):
        base = (pno - 1) * ps
        h = base + (100 if pno == 1 else 0)
        if data[h] != 0x0D:
            continue
        n = int.from_bytes(data[h + 3:h + 5], "big")
        for k in range(min(n, ps // 2)):
            try:
                off = int.from_bytes(data[h + 8 + 2 * k:h + 10 + 2 * k], "big")
                if not 8 <= off < ps:
                    continue
                p = base + off
                size, p = _varint(data, p)
                _rowid, p = _varint(data, p)
                x = usable - 35
                if size <= x:
                    payload = data[p:p + size]
                else:
                    m = ((usable - 12) * 32 // 255) - 23
                    kk = m + (size - m) % (usable - 4)
                    local = kk if kk <= x else m
                    parts = [data[p:p + local]]
                    got = local
                    nxt = int.from_bytes(data[p + local:p + local + 4], "big")
                    hops = 0
                    while got < size and 0 < nxt <= n_pages and hops < MAX_CHAIN:
                        o = (nxt - 1) * ps
                        take = min(usable - 4, size - got)
                        parts.append(data[o + 4:o + 4 + take])
                        got += take
                        nxt = int.from_bytes(data[o:o + 4], "big")
                        hops += 1
                    payload = b"".join(parts)
                if len(payload) != size:
                    continue
                yield _record(payload)
            except (IndexError, ValueError):
                continue


def carve(data: bytes) -> dict:
    """{"sessions": [{device_id, file_name, pulled_at, raw}], "files": [{device_id, name, pulled_at, data}]}
    of every row whose bytes verify against their sha256."""
    if data[:16] == HEADER:
        ps = int.from_bytes(data[16:18], "big")
        ps = 65536 if ps == 1 else ps
        sizes = (ps,) + tuple(s for s in PAGE_SIZES if s != ps) if ps in PAGE_SIZES else PAGE_SIZES
        reserved = data[20]
    else:  # a torn header: try every page size SQLite allows
        sizes, reserved = PAGE_SIZES, 0
    best: dict = {"sessions": [], "files": []}
    for ps in sizes:
        found: dict = {"sessions": [], "files": []}
        seen = set()
        for rec in _cells(data, ps, ps - reserved):
            if (len(rec) >= 24 and isinstance(rec[3], str) and isinstance(rec[23], bytes)
                    and hashlib.sha256(rec[23]).hexdigest() == rec[3] and ("s", rec[3]) not in seen):
                seen.add(("s", rec[3]))
                found["sessions"].append({"device_id": rec[1], "file_name": rec[4], "pulled_at": rec[22],
                                          "raw": rec[23]})
            elif (len(rec) == 6 and isinstance(rec[4], bytes) and isinstance(rec[3], str)
                  and hashlib.sha256(rec[4]).hexdigest() == rec[3] and ("f", rec[3]) not in seen):
                seen.add(("f", rec[3]))
                found["files"].append({"device_id": rec[0], "name": rec[1], "pulled_at": rec[5], "data": rec[4]})
        if len(found["sessions"]) + len(found["files"]) > len(best["sessions"]) + len(best["files"]):
            best = found
        if best["sessions"] or best["files"]:
            break
    return best
