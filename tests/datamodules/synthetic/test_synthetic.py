import functools
import json
import math
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from datamodules.decoding.convert import frame_to_array
from datamodules.synthetic import generate as syn
from datamodules.synthetic.generate import (
    CLASS_NAMES,
    DATASET_VERSION,
    REVERSED_PAIRS,
    SyntheticConfig,
    dataset_dir,
    default_root,
    ensure_synthetic,
    render_clip,
)

SMALL = SyntheticConfig(clips_per_class=3, sizes=(64,), min_frames=16, max_frames=20)
CSV_NAMES = ["synthetic-labels.csv", "synthetic-train.csv", "synthetic-validation.csv", "synthetic-test.csv"]


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([1234, seed])))


def _read_split(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    assert "\r" not in text and text.endswith("\n")
    rows = []
    for line in text.splitlines():
        vid, label = line.split(";")
        rows.append((vid, label))
    return rows


def _decode_pyav(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([frame_to_array(f) for f in container.decode(video=0)])


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic-a")
    return ensure_synthetic(root, SMALL, workers=1, progress=False)


# ---------------------------------------------------------------------------------------------- API and layout


def test_class_list_and_pairs():
    assert len(CLASS_NAMES) == len(set(CLASS_NAMES)) >= 10
    assert len(REVERSED_PAIRS) >= 5
    paired = [name for pair in REVERSED_PAIRS for name in pair]
    assert len(paired) == len(set(paired))
    assert set(paired) <= set(CLASS_NAMES)


def test_dataset_dir_naming(tmp_path):
    d = dataset_dir(tmp_path, SMALL)
    assert d.parent == tmp_path
    assert d.name.startswith(f"v{DATASET_VERSION}-seed0-")
    assert dataset_dir(tmp_path, SyntheticConfig(clips_per_class=3, sizes=[64], min_frames=16, max_frames=20)) == d
    assert dataset_dir(tmp_path, SyntheticConfig(clips_per_class=4, sizes=(64,), min_frames=16, max_frames=20)) != d
    assert dataset_dir(tmp_path, SyntheticConfig(seed=1)).name.startswith(f"v{DATASET_VERSION}-seed1-")
    assert default_root().name == "synthetic"


def test_config_validation():
    with pytest.raises(ValueError):
        SyntheticConfig(split_fractions=(0.5, 0.1, 0.1))
    with pytest.raises(ValueError):
        SyntheticConfig(sizes=(65,))
    with pytest.raises(ValueError):
        SyntheticConfig(min_frames=10, max_frames=5)
    assert SyntheticConfig.from_dict(SMALL.to_dict()) == SMALL


@pytest.mark.parametrize(
    "n, fractions, expected",
    [
        (250, (0.8, 0.1, 0.1), (200, 25, 25)),
        (3, (0.8, 0.1, 0.1), (1, 1, 1)),
        (10, (0.8, 0.1, 0.1), (8, 1, 1)),
        (7, (0.5, 0.25, 0.25), (3, 2, 2)),
        (5, (1.0, 0.0, 0.0), (5, 0, 0)),
        (1, (0.8, 0.1, 0.1), (1, 0, 0)),
    ],
)
def test_split_counts(n, fractions, expected):
    counts = syn.split_counts(n, fractions)
    assert counts == expected
    assert sum(counts) == n


def test_files_and_formats(small_dataset):
    d = small_dataset
    assert (d / "synthetic-labels.csv").read_text(encoding="utf-8") == "".join(f"{c}\n" for c in CLASS_NAMES)
    expected = dict(zip(syn.SPLITS, syn.split_counts(SMALL.clips_per_class, SMALL.split_fractions)))
    seen: dict[str, str] = {}
    for split in syn.SPLITS:
        rows = _read_split(d / f"synthetic-{split}.csv")
        per_class = {c: 0 for c in CLASS_NAMES}
        for vid, label in rows:
            assert vid.isdigit() and vid not in seen
            assert label in per_class
            seen[vid] = label
            per_class[label] += 1
            assert (d / "videos" / f"{vid}.mp4").is_file()
        assert set(per_class.values()) == {expected[split]}, (split, per_class)
        assert [int(v) for v, _ in rows] == sorted(int(v) for v, _ in rows)
    total = len(CLASS_NAMES) * SMALL.clips_per_class
    assert sorted(int(v) for v in seen) == list(range(1, total + 1))
    assert len(list((d / "videos").iterdir())) == total
    # Classes are shuffled over ids (not blocks of one class).
    labels_by_id = [seen[str(i)] for i in range(1, total + 1)]
    assert labels_by_id != sorted(labels_by_id, key=CLASS_NAMES.index)

    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["version"] == DATASET_VERSION
    assert manifest["config"] == SMALL.to_dict()
    assert manifest["counts"] == {s: expected[s] * len(CLASS_NAMES) for s in syn.SPLITS}
    assert len(manifest["files"]) == total
    for entry in manifest["files"]:
        assert seen[entry["id"]] == entry["label"]
        assert SMALL.min_frames <= entry["num_frames"] <= SMALL.max_frames
        assert entry["size"] in SMALL.sizes
        assert (d / entry["path"]).stat().st_size == entry["bytes"]
    assert not list(d.parent.glob(".*.tmp"))


def test_video_stream_format(small_dataset):
    import av

    entry = json.loads((small_dataset / "manifest.json").read_text())["files"][0]
    with av.open(str(small_dataset / entry["path"])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (entry["size"], entry["size"])
        assert float(stream.average_rate) == pytest.approx(SMALL.fps)


# ----------------------------------------------------------------------------------------------- frame counts


def test_decoded_frame_counts_and_content(small_dataset):
    import decord

    manifest = json.loads((small_dataset / "manifest.json").read_text())
    jobs = {str(j.video_id): j for j in syn.plan(SMALL)}
    for entry in manifest["files"][:6]:
        path = small_dataset / entry["path"]
        frames, num_frames, size = syn.make_clip(jobs[entry["id"]])
        assert num_frames == entry["num_frames"] == len(frames)
        vr = decord.VideoReader(str(path))
        assert len(vr) == num_frames
        decoded = vr.get_batch(list(range(num_frames))).asnumpy()
        assert decoded.shape == (num_frames, size, size, 3)
        last = vr[num_frames - 1].asnumpy()
        np.testing.assert_array_equal(last, decoded[-1])
        via_av = _decode_pyav(path)
        assert via_av.shape == decoded.shape
        # Lossy, but close to what was rendered (catches colour-space or frame-order mistakes).
        err = np.abs(decoded.astype(np.int16) - frames.astype(np.int16)).mean(axis=(1, 2, 3))
        assert err.max() < 6.0, err


# ------------------------------------------------------------------------------------------------ determinism


def test_determinism_across_worker_counts(small_dataset, tmp_path):
    other = ensure_synthetic(tmp_path, SMALL, workers=2, progress=False)
    assert other.name == small_dataset.name
    for name in CSV_NAMES:
        assert (other / name).read_bytes() == (small_dataset / name).read_bytes(), name
    # The manifest carries a sha256 per video, so equal manifests mean byte-identical videos.
    assert (other / "manifest.json").read_bytes() == (small_dataset / "manifest.json").read_bytes()
    for vid in ("1", "7", "30"):
        a = _decode_pyav(small_dataset / "videos" / f"{vid}.mp4")
        b = _decode_pyav(other / "videos" / f"{vid}.mp4")
        np.testing.assert_array_equal(a, b)


def test_clip_content_depends_only_on_seed_and_id():
    job = syn.plan(SMALL)[4]
    a, ta, sa = syn.make_clip(job)
    b, tb, sb = syn.make_clip(job)
    assert (ta, sa) == (tb, sb)
    np.testing.assert_array_equal(a, b)
    # The same id and class under a different config (more clips) renders the same content.
    bigger = SyntheticConfig(clips_per_class=5, sizes=(64,), min_frames=16, max_frames=20)
    c, _, _ = syn.make_clip(syn.ClipJob(job.video_id, job.label, "train", 0, 16, 20, (64,), 12))
    np.testing.assert_array_equal(a, c)
    assert bigger != SMALL


def test_different_seed_gives_different_content(small_dataset, tmp_path):
    cfg = SyntheticConfig(seed=1, clips_per_class=3, sizes=(64,), min_frames=16, max_frames=20)
    other = ensure_synthetic(tmp_path, cfg, workers=1, progress=False)
    assert other != dataset_dir(tmp_path, SMALL)
    a = json.loads((small_dataset / "manifest.json").read_text())["files"]
    b = json.loads((other / "manifest.json").read_text())["files"]
    assert [e["label"] for e in a] != [e["label"] for e in b]
    assert not {e["sha256"] for e in a} & {e["sha256"] for e in b}


# --------------------------------------------------------------------------------------- reversal and content


@pytest.mark.parametrize("forward, backward", REVERSED_PAIRS)
def test_reversed_pairs_are_exact_time_reversals(forward, backward):
    for seed in range(6):
        num_frames = 16 + seed * 5
        size = (64, 80, 96)[seed % 3]
        a = render_clip(forward, _rng(seed), num_frames, size)
        b = render_clip(backward, _rng(seed), num_frames, size)
        assert a.shape == (num_frames, size, size, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(b, a[::-1])
        assert not np.array_equal(a, b)


def test_reversed_pairs_have_equal_frame_statistics():
    """Order-agnostic statistics (multiset of frames) do not tell the two classes of a pair apart."""
    for forward, backward in REVERSED_PAIRS:
        for seed in range(3):
            a = render_clip(forward, _rng(100 + seed), 17, 64)
            b = render_clip(backward, _rng(100 + seed), 17, 64)
            np.testing.assert_array_equal(a.mean(axis=0), b.mean(axis=0))
            key = lambda x: sorted(f.tobytes() for f in x)  # noqa: E731
            assert key(a) == key(b)


def _object_mask(scene: syn.Scene, frames: np.ndarray) -> np.ndarray:
    bg = np.clip(scene.background + 0.5, 0, 255).astype(np.uint8)
    return np.abs(frames.astype(np.int16) - bg[None].astype(np.int16)).max(axis=-1) > 25


def _centroids(mask: np.ndarray) -> np.ndarray:
    t, h, w = mask.shape
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    area = mask.sum(axis=(1, 2)).astype(np.float64)
    return np.stack([(mask * xs).sum(axis=(1, 2)) / area, (mask * ys).sum(axis=(1, 2)) / area], axis=1)


@pytest.mark.parametrize("seed", range(4))
def test_classes_look_like_their_names(seed):
    def scene_and_frames(name):
        scene = syn.sample_scene(name, _rng(seed), 24, 80)
        return scene, syn.draw_scene(scene)

    for name, axis, sign in [("Moving Left", 0, -1), ("Moving Right", 0, 1), ("Moving Up", 1, -1), ("Moving Down", 1, 1)]:
        scene, frames = scene_and_frames(name)
        c = _centroids(_object_mask(scene, frames))
        assert sign * (c[-1, axis] - c[0, axis]) > 0.35 * 80, (name, c[[0, -1]])

    for name, sign in [("Growing", 1), ("Shrinking", -1)]:
        scene, frames = scene_and_frames(name)
        area = _object_mask(scene, frames).sum(axis=(1, 2))
        assert sign * (int(area[-1]) - int(area[0])) > 0.1 * 80 * 80, (name, area[[0, -1]])

    for name, sign in [("Appearing", 1), ("Vanishing", -1)]:
        scene, frames = scene_and_frames(name)
        bg = np.clip(scene.background + 0.5, 0, 255).astype(np.uint8)
        contrast = np.abs(frames.astype(np.int16) - bg[None]).mean(axis=(1, 2, 3))
        first, last = contrast[0], contrast[-1]
        assert min(first, last) < 0.5 and max(first, last) > 5.0
        assert sign * (last - first) > 0

    for name, sign in [("Rotating Clockwise", 1), ("Rotating Anticlockwise", -1)]:
        scene, frames = scene_and_frames(name)
        assert scene.shape in syn.ASYMMETRIC_SHAPES
        c = _centroids(_object_mask(scene, frames))
        # Angle of the object's centroid around its rotation centre, in screen coordinates (y down):
        # increasing angle = clockwise on screen.
        ang = np.unwrap(np.arctan2(c[:, 1] - scene.cy, c[:, 0] - scene.cx))
        assert sign * (ang[-1] - ang[0]) > math.radians(60), (name, np.degrees(ang[-1] - ang[0]))


def test_render_clip_rejects_bad_arguments():
    with pytest.raises(ValueError):
        render_clip("Dancing", _rng(0), 16, 64)
    with pytest.raises(ValueError):
        render_clip("Growing", _rng(0), 16, 63)


# ------------------------------------------------------------------------------------------------ idempotence


def test_second_call_does_not_regenerate(small_dataset):
    manifest = small_dataset / "manifest.json"
    before = manifest.stat().st_mtime_ns
    video = small_dataset / "videos" / "1.mp4"
    video_before = video.stat().st_mtime_ns
    again = ensure_synthetic(small_dataset.parent, SMALL, workers=1, progress=False)
    assert again == small_dataset
    assert manifest.stat().st_mtime_ns == before
    assert video.stat().st_mtime_ns == video_before


def test_leftover_temp_dir_and_incomplete_target_are_replaced(tmp_path):
    target = dataset_dir(tmp_path, SMALL)
    leftover = tmp_path / f".{target.name}.999999-0123abcd.tmp"  # a killed generator's folder
    (leftover / "videos").mkdir(parents=True)
    (leftover / "videos" / "1.mp4").write_bytes(b"partial")
    # A target without a manifest (e.g. copied by hand, half deleted) is not complete either.
    (target / "videos").mkdir(parents=True)
    (target / "synthetic-train.csv").write_text("junk\n")

    d = ensure_synthetic(tmp_path, SMALL, workers=1, progress=False)
    assert d == target
    assert not leftover.exists()
    assert (d / "manifest.json").is_file()
    assert len(list((d / "videos").iterdir())) == len(CLASS_NAMES) * SMALL.clips_per_class
    assert syn.is_complete(d, SMALL)

    # A missing video makes the directory incomplete: it is regenerated.
    (d / "videos" / "2.mp4").unlink()
    assert not syn.is_complete(d, SMALL)
    ensure_synthetic(tmp_path, SMALL, workers=1, progress=False)
    assert (d / "videos" / "2.mp4").is_file() and syn.is_complete(d, SMALL)


@pytest.mark.slow
def test_concurrent_callers_share_one_generation(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        job = functools.partial(ensure_synthetic, config=SMALL, workers=1, progress=False)
        dirs = pool.map(job, [tmp_path] * 2)
    assert dirs[0] == dirs[1]
    d = Path(dirs[0])
    assert syn.is_complete(d, SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == [d.name]  # the lock's lease file is gone
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_cli(tmp_path, capsys):
    assert syn.main(["--root", str(tmp_path), "--clips-per-class", "1", "--workers", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "train=" in out
    assert os.path.isdir(out.splitlines()[0])
