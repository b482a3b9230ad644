"""Fuzz: files the harness reads back that may come from elsewhere.

``--backbone-weights`` files and checkpoints (torch.save of arbitrary structures, bare pickles,
truncated and bit-flipped genuine files, garbage), the frame-count index, ``flow.json`` and the
leaderboard CSV. Each reader returns what it reads or raises its own error naming the file
(WeightsFileError, CheckpointError, VideoReadError, LeaderboardError; the index, a cache, treats
anything malformed as absent).
"""
from __future__ import annotations

import csv
import io
import json
import math
import pickle

import torch
from hypothesis import given
from hypothesis import strategies as st

from backbones.weights import WeightsFileError, read_state_dict
from benchmark.results.leaderboard import LEADERBOARD_COLUMNS, LeaderboardError, finished_run_ids, read_leaderboard
from benchmark.run.checkpoint import CheckpointError, read_checkpoint
from datamodules.decoding.base import VideoReadError
from datamodules.decoding.index import INDEX_FORMAT_VERSION, PROBLEM_KINDS, apply_index, index_file, index_key, load_index
from datamodules.flow.layout import FLOW_JSON, flow_bound, read_flow_info
from datamodules.flow.reader import count_pairs
from datamodules.records import VideoRecord
from tests.fuzz.harness import FUZZ, check, scratch
from tests.fuzz.inputs import json_contents, json_values, mutated, names

# --- weights and checkpoints ---------------------------------------------------------------------------
tensors = st.builds(
    lambda shape, dtype: torch.zeros(shape, dtype=dtype),
    st.lists(st.integers(0, 3), max_size=3), st.sampled_from([torch.float32, torch.int64, torch.bool, torch.float16]),
)  # fmt: skip
plain = st.recursive(
    st.one_of(tensors, st.integers(), st.floats(), st.text(max_size=5), st.none(), st.binary(max_size=5)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.one_of(names(), st.integers()), inner, max_size=3),
    max_leaves=10,
)
state_dicts = st.dictionaries(st.one_of(names(), st.just("module.conv.weight")), tensors, max_size=4)
structures = st.one_of(
    state_dicts, plain, st.fixed_dictionaries({"state_dict": state_dicts}), st.fixed_dictionaries({"model": plain}),
    st.fixed_dictionaries({"hyper_parameters": st.fixed_dictionaries({"config": plain}), "state_dict": state_dicts}),
)  # fmt: skip


def saved(value: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


class Harmless:
    """A pickle that names a global outside the allow-list (one that would do nothing if called)."""

    def __reduce__(self):
        return math.floor, (1.5,)


pickles = st.one_of(
    st.builds(lambda v: pickle.dumps(v, protocol=2), plain.filter(lambda v: not isinstance(v, torch.Tensor))),
    st.just(pickle.dumps({"a": Harmless()}, protocol=2)), st.just(saved({"a": Harmless()})),
)  # fmt: skip
torch_files = st.one_of(
    structures.map(saved), structures.map(saved), mutated(structures.map(saved)), pickles, st.binary(max_size=800),
    structures.map(saved).flatmap(lambda data: st.integers(0, len(data)).map(lambda n: data[:n])),
)  # fmt: skip


@given(torch_files)
@FUZZ
def test_backbone_weights_files(data):
    with scratch() as folder:
        (folder / "w.pth").write_bytes(data)
        weights = check("backbone_weights", lambda: read_state_dict(folder / "w.pth"), (WeightsFileError,), folder)
        if weights is not None:
            assert all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items())


@given(torch_files)
@FUZZ
def test_checkpoints(data):
    with scratch() as folder:
        (folder / "last.ckpt").write_bytes(data)
        content = check("checkpoint", lambda: read_checkpoint(folder / "last.ckpt"), (CheckpointError,), folder)
        assert content is None or isinstance(content, dict)


# --- the frame-count index ---------------------------------------------------------------------------
entries = st.dictionaries(
    st.one_of(st.just("videos/a.mp4"), names()),
    st.one_of(
        st.fixed_dictionaries(
            {"num_frames": st.one_of(st.none(), st.integers(-2, 50), json_values),
             "problem": st.one_of(st.none(), st.sampled_from(PROBLEM_KINDS), names()),
             "detail": st.one_of(st.just(""), json_values),
             "signature": st.one_of(st.none(), st.lists(json_values, max_size=5), json_values)},
            optional={"note": json_values, "deep": st.one_of(st.booleans(), json_values)},
        ),
        json_values,
    ),
    max_size=3,
)  # fmt: skip


@given(st.data())
@FUZZ
def test_frame_count_index(data):
    with scratch() as folder:
        annotations = folder / "list.txt"
        annotations.write_text("a 0\n")
        key, _ = index_key(folder, [annotations])
        shaped = st.fixed_dictionaries(
            {"format": st.sampled_from([INDEX_FORMAT_VERSION, 0, "1"]), "key": st.sampled_from([key, "other"]),
             "entries": st.one_of(entries, json_values)}
        )  # fmt: skip
        file = index_file(key, folder / "cache")
        file.parent.mkdir()
        file.write_bytes(data.draw(json_contents(shaped)))
        records = [VideoRecord("a", folder / "videos" / "a.mp4", 0, f"{annotations}:1")]

        def parse():
            index = load_index(folder, [annotations], cache_dir=folder / "cache")
            return None if index is None else apply_index(records, index, drop_unusable=True)

        kept = check("frame_count_index", parse, (), folder)
        for record in kept or []:
            assert record.num_frames is None or (isinstance(record.num_frames, int) and record.num_frames > 0)


# --- flow.json -------------------------------------------------------------------------------------------
flow_infos = st.fixed_dictionaries(
    {"num_pairs": st.one_of(st.integers(-1, 20), json_values), "bound": st.one_of(st.floats(), st.integers(), json_values)},
    optional={"method": names(), "size": json_values},
)


@given(json_contents(flow_infos))
@FUZZ
def test_flow_json(data):
    with scratch() as folder:
        (folder / FLOW_JSON).write_bytes(data)

        def parse():
            info = read_flow_info(folder)
            assert info is None or isinstance(info, dict)
            bound = flow_bound(folder)
            assert bound is None or (math.isfinite(bound) and bound > 0)
            pairs = count_pairs(folder)
            assert isinstance(pairs, int) and pairs >= 1
            return pairs

        check("flow_json", parse, (VideoReadError,), folder)


# --- the leaderboard CSV ---------------------------------------------------------------------------------
cells = st.one_of(
    st.sampled_from(["finished", "failed", "tsn", "synthetic", "0.5", "", "nan", "inf", "1e400", "True"]),
    names(), st.integers(), st.floats(), st.text(max_size=20),
)  # fmt: skip


@st.composite
def leaderboards(draw) -> bytes:
    columns = draw(st.one_of(
        st.just(list(LEADERBOARD_COLUMNS)), st.lists(st.sampled_from(LEADERBOARD_COLUMNS), max_size=8),
        st.lists(st.one_of(st.sampled_from(LEADERBOARD_COLUMNS), names()), max_size=6),
    ))  # fmt: skip
    rows = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), max_size=5))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(columns)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


@given(st.one_of(leaderboards(), leaderboards(), mutated(leaderboards()), st.binary(max_size=400)))
@FUZZ
def test_leaderboard_csv(data):
    with scratch() as folder:
        (folder / "leaderboard.csv").write_bytes(data)

        def parse():
            table = read_leaderboard(folder / "leaderboard.csv")
            finished = finished_run_ids(folder / "leaderboard.csv")
            assert all(isinstance(run_id, str) for run_id in finished)
            return table

        check("leaderboard_csv", parse, (LeaderboardError,), folder)


def test_the_figures_are_json():
    """The ledger's figures are plain data (the conftest writes them as JSON)."""
    from dataclasses import asdict

    from tests.fuzz.harness import Figures

    assert json.loads(json.dumps(asdict(Figures(3, 0, 0.5, {"returned": 3}))))["inputs"] == 3
