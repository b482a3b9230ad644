"""The one way a decoded PyAV frame becomes an array: converted on the calling thread, never by a thread pool.

PyAV 17 and newer convert frames with a multithreaded swscale context that it keeps between calls. A
process that has converted a frame that way and then forks (DataLoader workers, process pools) leaves
its child a context whose threads do not exist there: the child's next conversion waits forever (seen
with PyAV 18.1.1 / FFmpeg 8.1.3; ``shared/notes/pyav-fork.md``). One thread per conversion keeps no such
state, in the parent or the child, and is what frames of the sizes the harness decodes need anyway.
Every PyAV conversion in the project goes through :func:`frame_to_array`; ``tests/test_layout.py``
checks that no other module converts a frame itself.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def _threads_argument() -> dict[str, int]:
    """``{"threads": 1}`` where PyAV's reformatter takes the argument (PyAV 17+); older PyAV converts on
    the calling thread already and has no such argument."""
    import av

    major = int(str(av.__version__).split(".")[0])
    return {"threads": 1} if major >= 17 else {}


def frame_to_array(
    frame: Any,
    format: str = "rgb24",
    size: tuple[int, int] | None = None,
    interpolation: str | None = None,
) -> np.ndarray:
    """``frame`` (a PyAV ``VideoFrame``) as an array in ``format``, scaled to ``size = (height, width)``
    when given, converted on the calling thread."""
    options: dict[str, Any] = dict(_threads_argument())
    if size is not None:
        options.update(width=size[1], height=size[0])
    if interpolation is not None:
        options["interpolation"] = interpolation
    return frame.to_ndarray(format=format, **options)
