"""Two-stream: RGB and flow streams trained on the non-held-out videos, fusion fitted on the held-out ones."""
from pathlib import Path

import pandas as pd
import pytest

from benchmark.results.predictions import load_predictions
from benchmark.run.config import resolve_config
from benchmark.run.runner import RunOptions
from benchmark.systems import two_stream
from benchmark.systems.system_file import load_system_file
from benchmark.systems.two_stream import check_streams, run_two_stream

ROOT = Path(__file__).resolve().parents[3]


def _streams(**overrides):
    shared = dict(head="tsn", segments=2, epochs=1, batch_size=4, holdout_fraction=0.2, **overrides)
    return resolve_config("synthetic", **shared), resolve_config("synthetic", modality="flow", flow_length=2, **shared)


def test_streams_must_be_rgb_and_flow_halves_of_one_experiment():
    spatial, temporal = _streams()
    check_streams(spatial, temporal)
    with pytest.raises(ValueError, match="rgb spatial stream and a flow temporal"):
        check_streams(temporal, spatial)
    with pytest.raises(ValueError, match="seed"):
        check_streams(spatial, resolve_config("synthetic", modality="flow", seed=1, holdout_fraction=0.2))
    with pytest.raises(ValueError, match="held-out"):
        check_streams(resolve_config("synthetic"), resolve_config("synthetic", modality="flow"))


def test_system_files_parse_for_every_split():
    system = load_system_file(ROOT / "configs" / "two_stream_ucf101.yaml")
    assert [pair.split for pair in system.pairs] == ["1", "2", "3"]
    pair = system.pairs[0]
    assert pair.spatial.modality == "rgb" and pair.temporal.modality == "flow" and pair.temporal.flow_length == 10
    assert pair.spatial.test_clips == 25 and pair.spatial.test_crops == 10
    assert load_system_file(ROOT / "configs" / "two_stream_synthetic.yaml").fusion == (
        "average", "weighted_average", "linear_svm",
    )  # fmt: skip


@pytest.mark.slow
def test_fusion_is_fitted_on_held_out_scores_and_every_test_video_counted(tiny_synthetic_flow, tmp_path, monkeypatch):
    spatial, temporal = _streams()
    options = RunOptions(
        data_root=str(tiny_synthetic_flow), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    fitted_on = []
    real_fit = two_stream.fit_score_fusion

    def spy(method, scores, labels, multi_label=False):
        fitted_on.append(len(labels))
        return real_fit(method, scores, labels, multi_label=multi_label)

    monkeypatch.setattr(two_stream, "fit_score_fusion", spy)
    rows = run_two_stream(spatial, temporal, options)
    assert [row["head"] for row in rows] == ["fusion_average", "fusion_weighted_average", "fusion_linear_svm"]
    assert fitted_on == [10, 10, 10]  # the held-out part: 1 of the 3 training videos of each of 10 classes
    table = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    streams = table[table["system"] == "tsn"]
    assert set(streams["modality"]) == {"rgb", "flow"} and (streams["status"] == "finished").all()
    fused = table[table["system"] == "two_stream"]
    assert len(fused) == 3 and set(fused["modality"]) == {"rgb+flow"}
    assert (fused["n_test_evaluated"] == 9).all() and (fused["n_test_expected"] == 9).all()
    assert fused["top1"].between(0, 1).all()
    assert (fused["test_clips_per_s"] > 0).all()
    for row in fused.itertuples():  # per-video outputs kept for every fused system, its interval from them
        kept = load_predictions(tmp_path / "results" / "runs" / row.run_id / "predictions.npz")
        assert len(kept) == 9 and kept.correct.mean() == pytest.approx(row.top1)
        assert row.top1_low <= row.top1 <= row.top1_high
    # a second call reuses both finished streams and replaces (does not duplicate) the fusion rows
    run_two_stream(spatial, temporal, options)
    again = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert len(again) == len(table)
