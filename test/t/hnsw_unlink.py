#!/usr/bin/python3
"""Edits a stopped cluster's hnsw index file (test/t/hnsw_reachability.sh): picks a live level-0
element on block 1 that is not the entry point and removes it from every neighbour list, so that
no search can reach it any more. Prints the element's TID as "block,offset". With --garble-code
(a quantised index) it inverts the code of the first neighbour of the first neighbour list with a
link instead (codes are laid out in blocks of 32 neighbours: for each group of 4 coordinates 16
bytes, neighbour 0's nibble the low half of the group's first byte), and prints that list's TID. Page layout: src/pg/hnsw/pages.h (data checksums are off in the test
clusters)."""
import struct
import sys

PAGE = 8192


def items(page):
    lower = struct.unpack_from("<H", page, 12)[0]
    for i in range(max(0, (lower - 24) // 4)):
        lp = struct.unpack_from("<I", page, 24 + 4 * i)[0]
        if (lp >> 15) & 3 == 1:  # LP_NORMAL
            yield i + 1, lp & 0x7FFF


def tid(buf, at):
    hi, lo, off = struct.unpack_from("<HHH", buf, at)
    return (hi << 16 | lo), off


def main(path):
    data = bytearray(open(path, "rb").read())
    entry = tid(data, 24 + 20)
    victim = None
    for block in range(1, len(data) // PAGE):
        base = block * PAGE
        for offset, at in items(data[base:base + PAGE]):
            kind, level, deleted = data[base + at], data[base + at + 1], data[base + at + 2]
            if kind == 1 and level == 0 and deleted == 0 and (block, offset) != entry:
                victim = (block, offset)
                break
        if victim:
            break
    if victim is None:
        sys.exit("no element to unlink")
    removed = 0
    for block in range(1, len(data) // PAGE):
        base = block * PAGE
        for _, at in items(data[base:base + PAGE]):
            t = base + at
            if data[t] != 2:  # neighbour tuple
                continue
            level, m = data[t + 1], struct.unpack_from("<H", data, t + 2)[0]
            ids = t + 4 + 2 * (level + 1)
            for lv in range(level + 1):
                count_at = t + 4 + 2 * lv
                count = struct.unpack_from("<H", data, count_at)[0]
                start = ids + 6 * (0 if lv == 0 else 2 * m + m * (lv - 1))
                kept = [data[start + 6 * k:start + 6 * k + 6] for k in range(count)
                        if tid(data, start + 6 * k) != victim]
                removed += count - len(kept)
                data[start:start + 6 * len(kept)] = b"".join(kept)
                struct.pack_into("<H", data, count_at, len(kept))
    if removed == 0:
        sys.exit("the element had no in-links")
    open(path, "wb").write(data)
    print("%d,%d" % victim)


def garble_code(path):
    data = bytearray(open(path, "rb").read())
    stride = struct.unpack_from("<H", data, 24 + 50)[0]  # MetaPage.code_stride
    if stride == 0:
        sys.exit("not a quantised index")
    for block in range(1, len(data) // PAGE):
        base = block * PAGE
        for offset, at in items(data[base:base + PAGE]):
            t = base + at
            if data[t] != 2 or struct.unpack_from("<H", data, t + 4)[0] == 0:
                continue
            level, m = data[t + 1], struct.unpack_from("<H", data, t + 2)[0]
            ids_end = 4 + 2 * (level + 1) + 6 * (2 * m + m * level)
            codes = t + ((ids_end + 7) & ~7)
            groups = 2 * (stride - 12)  # 1-bit codes of 8 * (stride - 12) coordinates
            for g in range(groups):
                data[codes + 16 * g] ^= 0x0F
            open(path, "wb").write(data)
            print("%d,%d" % (block, offset))
            return
    sys.exit("no list with a link")


if __name__ == "__main__":
    if sys.argv[1] == "--garble-code":
        garble_code(sys.argv[2])
    else:
        main(sys.argv[1])
