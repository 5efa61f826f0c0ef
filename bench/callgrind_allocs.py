#!/usr/bin/env python3
"""Counts calls to heap allocation functions in a callgrind output file.

Usage: bench/callgrind_allocs.py FILE
Prints one number: the calls to malloc, calloc, realloc, aligned allocation
and operator new recorded in FILE (only what callgrind collected, so a
profile zeroed around a load counts that load's allocations). A call from
one allocator to another (operator new to malloc) counts once."""
import re
import sys

ALLOCATORS = re.compile(r"^(malloc|calloc|realloc|posix_memalign|aligned_alloc|memalign|"
                        r"operator new(\[\])?\(.*\))$")


def main(path):
    names = {}
    total = 0
    pending = None  # The allocator named by the last cfn= line.
    inside = False  # The current function is itself an allocator.
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if m:
                ident, name = m.group(1), m.group(2)
                if name is not None:
                    names[ident] = name
                if line.startswith("cfn="):
                    pending = ALLOCATORS.match(names.get(ident, "")) is not None and not inside
                else:
                    inside = ALLOCATORS.match(names.get(ident, "")) is not None
                continue
            if line.startswith("calls=") and pending:
                total += int(line.split("=", 1)[1].split()[0])
                pending = None
            elif line.startswith("calls="):
                pending = None
    print(total)


if __name__ == "__main__":
    main(sys.argv[1])
