"""Reading checkpoints without running code that came with them.

A checkpoint is a pickle, and unpickling may call any function the file names (a ``.ckpt`` from
someone else can carry ``os.system(...)``). Every checkpoint the harness reads — to resume a run,
to test it again (``stbench test``) or to load a system's streams — is therefore read with torch's
weights-only unpickler, which builds tensors and plain data and refuses any other global, extended
by :data:`ALLOWED_GLOBALS` only. A checkpoint that names anything else is refused with
:class:`UntrustedCheckpointError`, which names the file and what it needs; a user who trusts the
file can pass ``--trust-checkpoint`` (``trust=True`` here), which loads it with the full unpickler.

Lightning's own loads (``Trainer.fit(ckpt_path=...)``, ``LightningModule.load_from_checkpoint``)
read the file again after :func:`read_checkpoint` has vetted it: they are given
``weights_only=not trust`` and run inside :func:`allowed_globals`, so they take the same path.

Torch is imported inside the functions, so that the command line can catch the refusal cheaply.
"""
from __future__ import annotations

import collections
import io
import pickletools
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from datamodules.paths import path_problem

# What a checkpoint of ours holds besides tensors (their storages, dtypes and sizes, which torch's
# weights-only unpickler builds itself) and the plain values pickle writes without naming a type
# (dict, list, tuple, str, bytes, int, float, bool, None): the ordered dicts of state dicts and
# the Counter of MultiStepLR's milestones. The run configuration is saved as plain data
# (RunConfig.to_dict) and Lightning keeps no RNG state in a checkpoint.
ALLOWED_GLOBALS: tuple[Any, ...] = (collections.OrderedDict, collections.Counter, set, frozenset)

TRUST_HINT = "if you trust this file, pass --trust-checkpoint to load it with the full unpickler"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not hold what the harness wrote; names the file."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class UntrustedCheckpointError(CheckpointError):
    """A checkpoint that needs a type outside the allow-list: loading it could run code."""

    def __init__(self, path: str | Path, offending: list[str], detail: str = "") -> None:
        needs = ", ".join(offending) if offending else detail or "something the weights-only unpickler refuses"
        which = "which are not plain types" if len(offending) > 1 else "which is not a plain type"
        reason = (
            f"refused to load this checkpoint: it needs {needs}, {which} of the allow-list "
            f"(tensors, numbers, strings, lists, dicts), and unpickling it could run code; {TRUST_HINT}"
        )
        super().__init__(path, reason)
        self.offending = tuple(offending)


@contextmanager
def allowed_globals() -> Iterator[None]:
    """Within this block, torch's weights-only loads accept :data:`ALLOWED_GLOBALS` too."""
    import torch

    with torch.serialization.safe_globals(list(ALLOWED_GLOBALS)):
        yield


def read_checkpoint(path: str | Path, trust: bool = False) -> dict[str, Any]:
    """The checkpoint's content; refused (:class:`UntrustedCheckpointError`) when it needs a type
    outside the allow-list, unless ``trust``. Any other failure to read it is a :class:`CheckpointError`."""
    import pickle

    import torch

    path = Path(path)
    problem = path_problem(path, "file")  # before opening: a named pipe would block, a device never end
    if problem is not None:
        raise CheckpointError(path, f"cannot read the checkpoint: {problem}")
    try:
        if trust:
            content = torch.load(path, map_location="cpu", weights_only=False)
        else:
            with allowed_globals():
                content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        reason = _torch_reason(error)
        offending = [] if trust else offending_globals(path)
        if offending or (not trust and _REFUSAL.search(reason)):
            raise UntrustedCheckpointError(path, offending, reason) from None
        hint = "" if trust else f"; {TRUST_HINT}"
        raise CheckpointError(path, f"not a checkpoint the weights-only unpickler can read ({reason}){hint}") from None
    except Exception as error:  # torch.load raises many types for a file that is not a checkpoint
        reason = f"not a readable checkpoint ({type(error).__name__}: {_first_line(error)})"
        raise CheckpointError(path, reason) from None
    if not isinstance(content, dict):
        raise CheckpointError(path, f"holds a {type(content).__name__}, not a checkpoint dictionary")
    return content


def checkpoint_config(content: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The run configuration a checkpoint of a run holds (``hyper_parameters["config"]``)."""
    hyper = content.get("hyper_parameters")
    config = hyper.get("config") if isinstance(hyper, dict) else None
    if not isinstance(config, dict):
        raise CheckpointError(path, "holds no run configuration (hyper_parameters.config): not written by a run")
    return config


def offending_globals(path: str | Path) -> list[str]:
    """The globals a checkpoint names beyond torch's weights-only set and :data:`ALLOWED_GLOBALS`,
    found by reading its pickle's opcodes (nothing is executed)."""
    allowed = {f"{kind.__module__}.{kind.__qualname__}" for kind in ALLOWED_GLOBALS}
    try:
        import torch

        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # not a zip checkpoint: a legacy file or a bare pickle
        names = pickle_globals(Path(path).read_bytes())
        names = [name for name in names if not name.startswith("torch.")]
    return sorted({name for name in names if name not in allowed})


def pickle_globals(data: bytes) -> list[str]:
    """``module.name`` of every GLOBAL / STACK_GLOBAL in the pickles of ``data``, in order."""
    found: list[str] = []
    stream = io.BytesIO(data)
    try:
        if zipfile.is_zipfile(stream):
            with zipfile.ZipFile(stream) as archive:
                pickles = [name for name in archive.namelist() if name.endswith(".pkl")]
                stream = io.BytesIO(b"".join(archive.read(name) for name in pickles))
    except Exception:  # a damaged zip: read what follows as a bare pickle
        stream = io.BytesIO(data)
    stream.seek(0)
    strings: list[str] = []
    while stream.tell() < len(stream.getbuffer()):
        try:
            for opcode, argument, _ in pickletools.genops(stream):
                if opcode.name == "GLOBAL" and isinstance(argument, str):
                    found.append(argument.replace(" ", ".", 1))
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif isinstance(argument, str):
                    strings.append(argument)
        except Exception:  # the rest is not a pickle (a legacy file's raw storage bytes)
            break
    return found


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(error).__name__


# What torch's weights-only unpickler says when it refuses (rather than fails to parse) a pickle.
_REFUSAL = re.compile(r"[Uu]nsupported (global|GLOBAL|class)|is not an allowed global|blocked")
_TORCH_BOILERPLATE = ("Weights only load failed", "Please file an issue", "Check the documentation", "In PyTorch 2.6")


def _torch_reason(error: BaseException) -> str:
    """The informative line of a weights-only load error (torch wraps it in advice about the default)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(_TORCH_BOILERPLATE)]
    text = useful[0] if useful else (lines[0] if lines else type(error).__name__)
    return text.removeprefix("WeightsUnpickler error:").strip()[:300] or type(error).__name__
