"""Hybrid framework: per-stream LSTMs, fusion nets with λ chosen on held-out videos, one row per component."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.run.config import resolve_config
from benchmark.results.leaderboard import read_leaderboard
from benchmark.run.runner import RunOptions
from benchmark.systems import hybrid, hybrid_features
from benchmark.systems.hybrid import (
    COMPONENTS,
    HybridSettings,
    Part,
    hybrid_run_id,
    run_hybrid,
    select_lambdas,
    standardize,
)
from benchmark.systems.hybrid_baselines import AVERAGES, SVM_COMPONENTS, ComponentResult, average_results, svm_results
from benchmark.systems.system_file import load_hybrid_file
from datamodules.datasets import get_dataset
from datamodules.sampling.holdout import hold_out

ROOT = Path(__file__).resolve().parents[3]
TINY_SETTINGS = HybridSettings(
    lstm_hidden=(16, 8),
    lstm_optimizer="adam",
    lstm_lr=1e-3,
    lstm_batch_size=8,
    lstm_epochs=2,
    fusion_epochs=2,
    fusion_batch_size=8,
    lambda_grid=(1e-5, 1e-2),
)
EXPECTED_MODALITY = {
    "spatial_cnn": "rgb", "motion_cnn": "flow", "spatial_lstm": "rgb", "motion_lstm": "flow",
    "cnn_lstm_spatial": "rgb", "cnn_lstm_motion": "flow", "cnn_lstm_all": "rgb+flow",
    "svm_spatial": "rgb", "svm_motion": "flow", "svm_ef": "rgb+flow", "svm_lf": "rgb+flow", "svm_mkl": "rgb+flow",
    "nn_early_fusion": "rgb+flow", "nn_late_fusion": "rgb+flow", "cnn_average": "rgb+flow",
    "fusion_nonregularized": "rgb+flow", "fusion_regularized": "rgb+flow", "hybrid": "rgb+flow",
}  # fmt: skip


def _streams(holdout_fraction: float = 0.34):
    shared = dict(
        head="tsn", segments=3, input_size=32, epochs=1, lr_steps=(), batch_size=4, holdout_fraction=holdout_fraction
    )
    return resolve_config("synthetic", **shared), resolve_config("synthetic", modality="flow", flow_length=2, **shared)


def _random_part(name: str, rng: np.random.Generator, n: int, num_classes: int = 3) -> Part:
    labels = np.arange(n) % num_classes
    spatial = rng.normal(size=(n, 4, 6)).astype(np.float32) + labels[:, None, None]
    motion = rng.normal(size=(n, 4, 5)).astype(np.float32)
    return Part(name, [f"{name}{i}" for i in range(n)], spatial, motion, labels)


def _non_negative_part(name: str, rng: np.random.Generator, n: int, num_classes: int = 3) -> Part:
    """Post-ReLU-like features: the spatial one tells the classes apart, the motion one is noise."""
    labels = np.arange(n) % num_classes
    spatial = np.abs(rng.normal(size=(n, 4, 6))).astype(np.float32)
    spatial[np.arange(n), :, labels] += 3.0
    motion = np.abs(rng.normal(size=(n, 4, 5))).astype(np.float32)
    return Part(name, [f"{name}{i}" for i in range(n)], spatial, motion, labels)


# -- fast checks -------------------------------------------------------------------------------
def test_settings_presets_and_unknown_keys():
    assert HybridSettings.from_dict({}) == HybridSettings()
    paper = HybridSettings()
    assert (paper.lstm_hidden, paper.lstm_lr, paper.lstm_momentum) == ((1024, 512), 1e-4, 0.9)
    assert paper.lstm_batch_size == 10
    assert (paper.fusion_lr, paper.lambda1) == (0.7, 3e-5)
    cpu = HybridSettings.from_dict({"preset": "synthetic", "lstm_epochs": 3, "lambda_grid": [0.1]})
    assert cpu.lstm_optimizer == "adam" and cpu.lstm_epochs == 3 and cpu.lambda_grid == (0.1,)
    with pytest.raises(ValueError, match="unknown hybrid settings"):
        HybridSettings.from_dict({"lstm_epoch": 3})
    with pytest.raises(ValueError, match="unknown hybrid preset"):
        HybridSettings.from_dict({"preset": "gpu"})
    with pytest.raises(ValueError, match="lstm_optimizer"):
        HybridSettings(lstm_optimizer="rmsprop")


def test_run_id_depends_on_streams_settings_and_component():
    spatial, temporal = _streams()
    ids = {hybrid_run_id(spatial, temporal, TINY_SETTINGS, c) for c in COMPONENTS}
    assert len(ids) == len(COMPONENTS)
    same = hybrid_run_id(spatial, temporal, TINY_SETTINGS, "hybrid")
    assert same == hybrid_run_id(*_streams(), HybridSettings(**vars(TINY_SETTINGS)), "hybrid")
    assert same != hybrid_run_id(spatial, temporal, HybridSettings(), "hybrid")
    assert same != hybrid_run_id(*_streams(0.5), TINY_SETTINGS, "hybrid")


def test_streams_without_held_out_part_are_refused(tmp_path):
    spatial, temporal = _streams(holdout_fraction=0.0)
    options = RunOptions(results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"))
    with pytest.raises(ValueError, match="holdout_fraction > 0"):
        run_hybrid(spatial, temporal, options, TINY_SETTINGS)
    assert not (tmp_path / "results").exists()


def test_non_zero_ranks_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(hybrid, "run", lambda config, options: None)  # what run() returns off rank 0
    monkeypatch.setattr(hybrid, "load_parts", lambda *a: pytest.fail("rank > 0 must not extract features"))
    options = RunOptions(results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"))
    assert run_hybrid(*_streams(), options, TINY_SETTINGS) == []
    assert not (tmp_path / "results" / "leaderboard.csv").exists()


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    parts = {name: _random_part(name, rng, 12) for name in ("train", "val", "test")}
    scaled = standardize(parts)
    assert np.allclose(scaled["train"].spatial.mean(axis=(0, 1)), 0, atol=1e-5)
    assert np.allclose(scaled["train"].motion.std(axis=(0, 1)), 1, atol=1e-4)
    test = parts["test"]
    shifted = dict(parts, test=Part("test", test.video_ids, test.spatial + 100, test.motion, test.labels))
    again = standardize(shifted)
    assert np.array_equal(again["train"].spatial, scaled["train"].spatial)
    assert np.array_equal(again["val"].motion, scaled["val"].motion)


def test_lambda_choice_is_the_best_held_out_grid_point():
    rng = np.random.default_rng(1)
    train, held_out = _random_part("train", rng, 30), _random_part("val", rng, 12)
    settings = HybridSettings(fusion_epochs=3, fusion_batch_size=8, fusion_lr=0.1, lambda_grid=(0.0, 1e-3, 5.0))
    choice = select_lambdas(train, held_out, 3, False, settings)
    pairs = [(a, b) for a in (0.0, 1e-3, 5.0) for b in (0.0, 1e-3, 5.0)]
    assert [(g["lambda2"], g["lambda3"]) for g in choice.grid] == pairs
    best = max(choice.grid, key=lambda g: (g["held_out_metric"], g["zero_row_fraction"]))
    assert (choice.lambda2, choice.lambda3) == (best["lambda2"], best["lambda3"])
    assert choice.held_out_metric == best["held_out_metric"]
    strongest = [g for g in choice.grid if g["lambda2"] == 5.0 and g["lambda3"] == 5.0][0]
    assert strongest["zero_row_fraction"] == 1.0  # a large penalty removes every fusion unit
    assert choice.model.zero_row_fraction() == best["zero_row_fraction"]


SVM_SETTINGS = HybridSettings(svm_c_grid=(0.1, 10.0), chi2_width_grid=(0.5, 2.0), mkl_tol=1e-4)


def test_svm_baselines_are_chosen_on_held_out_videos_and_never_on_the_test_set():
    rng = np.random.default_rng(2)
    parts = {name: _non_negative_part(name, rng, n) for name, n in (("train", 30), ("val", 15), ("test", 15))}
    results = {r.name: r for r in svm_results(parts, 3, False, SVM_SETTINGS, ["test features", "other"])}
    assert list(results) == list(SVM_COMPONENTS)
    assert np.mean(results["svm_spatial"].scores.argmax(axis=1) == parts["test"].labels) == 1.0
    assert np.allclose(results["svm_lf"].scores, (results["svm_spatial"].scores + results["svm_motion"].scores) / 2)
    theta = results["svm_mkl"].choice.theta
    assert np.linalg.norm(theta) == pytest.approx(1.0) and theta[0] > theta[1]  # the informative kernel weighs more
    assert "test features" in results["svm_spatial"].columns["detail"]
    assert "other" not in results["svm_spatial"].columns["detail"] and "other" in results["svm_motion"].columns["detail"]
    # other test videos change the test scores only, not what was chosen
    test = parts["test"]
    shuffled = Part("test", test.video_ids, test.spatial[::-1].copy(), test.motion, test.labels)
    again = {r.name: r for r in svm_results({**parts, "test": shuffled}, 3, False, SVM_SETTINGS, ["test features", "other"])}
    for name in SVM_COMPONENTS:
        assert again[name].columns["detail"] == results[name].columns["detail"]
    assert not np.allclose(again["svm_spatial"].scores, results["svm_spatial"].scores)


def test_svm_baselines_refuse_negative_features():
    rng = np.random.default_rng(3)
    parts = {name: _random_part(name, rng, 12) for name in ("train", "val", "test")}
    with pytest.raises(ValueError, match="non-negative"):
        svm_results(parts, 3, False, SVM_SETTINGS, ["standardised", "standardised"])


def test_late_averages_are_plain_means_of_their_members():
    rng = np.random.default_rng(4)
    members = {"spatial_cnn", "motion_cnn", "spatial_lstm", "motion_lstm"}
    by_name = {m: ComponentResult(m, rng.random((5, 3)), np.arange(5) % 3, {}) for m in members}
    averages = {r.name: r for r in average_results(by_name)}
    assert set(averages) == set(AVERAGES)
    for name, parts in AVERAGES.items():
        assert np.allclose(averages[name].scores, np.mean([by_name[p].scores for p in parts], axis=0))


def test_new_settings_at_their_defaults_keep_the_earlier_row_ids():
    spatial, temporal = _streams()
    assert "svm_c_grid" not in TINY_SETTINGS.identity()
    assert "svm_c_grid" in HybridSettings(svm_c_grid=(1.0,)).identity()
    assert hybrid_run_id(spatial, temporal, TINY_SETTINGS, "hybrid") != hybrid_run_id(
        spatial, temporal, HybridSettings(**{**vars(TINY_SETTINGS), "svm_c_grid": (1.0,)}), "hybrid"
    )


def test_shipped_hybrid_files_parse():
    (synthetic,) = load_hybrid_file(ROOT / "configs" / "hybrid_synthetic.yaml")
    pair = synthetic.pairs[0]
    assert synthetic.system == "hybrid" and pair.spatial.segments == 8 and pair.spatial.backbone == "smallcnn"
    assert pair.spatial.holdout_fraction > 0 and pair.temporal.modality == "flow"
    assert HybridSettings.from_dict(synthetic.settings).lstm_optimizer == "adam"
    ucf101, ccv = load_hybrid_file(ROOT / "configs" / "hybrid_ucf101_ccv.yaml")
    assert [p.split for p in ucf101.pairs] == ["1", "2", "3"]
    assert [p.spatial.dataset for p in ucf101.pairs] == ["ucf101"] * 3
    assert [p.spatial.dataset for p in ccv.pairs] == ["ccv"]
    for p in (*ucf101.pairs, *ccv.pairs):
        assert p.spatial.segments == 25 and p.temporal.flow_length == 10 and p.spatial.backbone_weights
    assert HybridSettings.from_dict(ccv.settings) == HybridSettings()


# -- end to end on the tiny dataset ------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_hybrid(tiny_synthetic_flow, tmp_path_factory):
    """One hybrid run on the tiny dataset, with the λ selection spied on."""
    out = tmp_path_factory.mktemp("hybrid")
    options = RunOptions(
        data_root=str(tiny_synthetic_flow), results_dir=str(out / "results"), work_dir=str(out / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    spatial, temporal = _streams()
    seen = []
    real = hybrid.select_lambdas

    def spy(train, held_out, *args, **kwargs):
        choice = real(train, held_out, *args, **kwargs)
        seen.append({"args": (train, held_out, *args), "kwargs": kwargs, "choice": choice})
        return choice

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hybrid, "select_lambdas", spy)
        rows = run_hybrid(spatial, temporal, options, TINY_SETTINGS)
    return {"rows": rows, "seen": seen, "options": options, "streams": (spatial, temporal), "root": tiny_synthetic_flow}


@pytest.mark.slow
def test_every_component_lands_in_the_leaderboard(tiny_hybrid):
    spatial, temporal = tiny_hybrid["streams"]
    table = read_leaderboard(Path(tiny_hybrid["options"].results_dir) / "leaderboard.csv")
    rows = table[table["system"] == "hybrid"].set_index("head")
    assert sorted(rows.index) == sorted(COMPONENTS)
    assert [row["head"] for row in tiny_hybrid["rows"]] == list(COMPONENTS)
    for component, row in rows.iterrows():
        assert row["modality"] == EXPECTED_MODALITY[component]
        assert row["run_id"] == hybrid_run_id(spatial, temporal, TINY_SETTINGS, component)
        assert row["status"] == "finished" and row["dataset"] == "synthetic"
        assert row["n_test_evaluated"] == row["n_test_expected"] == 9 and row["n_test_failed"] == 0
        assert 0.0 <= row["top1"] <= 1.0
        assert pd.isna(row["zero_row_fraction"]) == (component not in ("fusion_regularized", "fusion_nonregularized"))
    assert rows.loc["fusion_nonregularized", "zero_row_fraction"] == 0.0
    streams = table[table["run_id"].isin([spatial.run_id, temporal.run_id])]
    assert sorted(streams["modality"]) == ["flow", "rgb"] and (streams["status"] == "finished").all()
    summary_path = Path(tiny_hybrid["options"].results_dir) / "runs" / rows.loc["hybrid", "run_id"] / "hybrid.json"
    summary = json.loads(summary_path.read_text())
    choice = tiny_hybrid["seen"][0]["choice"]
    assert (summary["lambda2"], summary["lambda3"]) == (choice.lambda2, choice.lambda3)
    assert sum(summary["hybrid_weights"].values()) == pytest.approx(1.0)


@pytest.mark.slow
def test_lambdas_are_chosen_on_held_out_videos_disjoint_from_train_and_test(tiny_hybrid):
    (call,) = tiny_hybrid["seen"]
    train, held_out = call["args"][:2]
    assert (train.name, held_out.name) == ("train", "val")
    splits = get_dataset("synthetic").load(tiny_hybrid["root"], "default", False)
    test_ids = {r.video_id for r in splits.test}
    kept, held = hold_out(splits.train, tiny_hybrid["streams"][0].holdout_fraction, tiny_hybrid["streams"][0].seed)
    assert set(held_out.video_ids) == {r.video_id for r in held} and len(held_out.video_ids) == 10
    assert set(train.video_ids) == {r.video_id for r in kept}
    assert not set(held_out.video_ids) & set(train.video_ids)
    assert not (set(held_out.video_ids) | set(train.video_ids)) & test_ids
    arrays = [a for part in (train, held_out) for a in (part.spatial, part.motion, part.labels)]
    assert all(len(a) in (len(train.video_ids), len(held_out.video_ids)) for a in arrays)
    assert not any(isinstance(a, Part) and a.name == "test" for a in [*call["args"], *call["kwargs"].values()])


@pytest.mark.slow
def test_second_call_reuses_finished_streams_and_cached_features(tiny_hybrid, monkeypatch):
    monkeypatch.setattr(hybrid, "run", lambda *a, **k: pytest.fail("a finished stream was trained again"))
    monkeypatch.setattr(hybrid_features, "stream_outputs", lambda *a, **k: pytest.fail("cached stream outputs were recomputed"))
    rows = run_hybrid(*tiny_hybrid["streams"], tiny_hybrid["options"], TINY_SETTINGS)
    first = {row["run_id"]: row["top1"] for row in tiny_hybrid["rows"]}
    assert {row["run_id"]: row["top1"] for row in rows} == first
    table = read_leaderboard(Path(tiny_hybrid["options"].results_dir) / "leaderboard.csv")
    assert (table["system"] == "hybrid").sum() == len(COMPONENTS)


def test_the_shipped_synthetic_hybrid_keeps_its_row_ids():
    """Settings added later (the SVM grids) at their defaults leave the committed rows' ids unchanged."""
    (synthetic,) = load_hybrid_file(ROOT / "configs" / "hybrid_synthetic.yaml")
    pair, settings = synthetic.pairs[0], HybridSettings.from_dict(synthetic.settings)
    assert hybrid_run_id(pair.spatial, pair.temporal, settings, "hybrid") == "524317c3bd12"
    assert hybrid_run_id(pair.spatial, pair.temporal, settings, "fusion_regularized") == "92124d5dd7ce"
