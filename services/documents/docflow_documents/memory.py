"""Keeps streamed file chunks from inflating the heap (glibc only, a no-op elsewhere).

Uploads and downloads allocate and free buffers of about 1 MiB per chunk. glibc raises its mmap
threshold dynamically after such frees, after which these buffers come from the heap, which
fragments and keeps growing. A fixed threshold keeps them in mmap and returns them at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 256 * 1024


def keep_large_buffers_out_of_the_heap() -> bool:
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        logger.info("mallopt is not available; heap tuning skipped")
        return False
