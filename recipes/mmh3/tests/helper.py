"""The one helper mmh3's tests import (upstream tests/helper.py; the sdist leaves it out)."""


def u32_to_s32(v: int) -> int:
    """Reinterpret an unsigned 32-bit value as signed, as mmh3.hash returns it."""
    return v - 0x100000000 if v & 0x80000000 else v
