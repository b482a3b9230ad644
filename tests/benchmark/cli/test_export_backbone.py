"""``stbench export-backbone``: a run's trained backbone becomes a weights file another run starts from,
and the rows of that run say which weights (by content) they started from."""
from __future__ import annotations

import pandas as pd
import torch

from backbones import build_backbone
from benchmark.cli.main import main
from benchmark.run.checkpoint import read_checkpoint
from benchmark.run.config import resolve_config
from datamodules.storage import file_sha256


def how(tiny, tmp_path) -> list[str]:
    return [
        "--data-root", str(tiny), "--work-dir", str(tmp_path / "runs"), "--results-dir", str(tmp_path / "results"),
        "--accelerator", "cpu", "--workers", "0", "--no-progress", "--segments", "2", "--epochs", "1",
        "--batch-size", "4", "--lr-steps",
    ]  # fmt: skip


def test_an_exported_backbone_is_the_trained_one_and_starts_the_next_run(tiny_synthetic, tmp_path, capsys):
    assert main(["run", "--head", "tsn", *how(tiny_synthetic, tmp_path)]) == 0
    trained = resolve_config("synthetic", head="tsn", segments=2, epochs=1, batch_size=4, lr_steps=())
    checkpoint = tmp_path / "runs" / trained.run_id / "checkpoints" / "last.ckpt"
    out = tmp_path / "weights" / "smallcnn_tsn.pt"
    assert main(["export-backbone", str(checkpoint), "--out", str(out)]) == 0
    assert f"sha256 {file_sha256(out)[:12]}" in capsys.readouterr().out

    state = read_checkpoint(checkpoint)["state_dict"]
    exported = torch.load(out, weights_only=True)
    assert exported.keys() == {key.removeprefix("net.backbone.") for key in state if key.startswith("net.backbone.")}
    loaded = build_backbone("smallcnn", 3, out)  # strict: every key of the backbone, nothing else
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, state[f"net.backbone.{key}"]), key

    argv = ["run", "--head", "lstm", "--backbone-weights", str(out), *how(tiny_synthetic, tmp_path)]
    assert main(argv) == 0
    rows = pd.read_csv(tmp_path / "results" / "leaderboard.csv", keep_default_na=False).set_index("head")
    assert rows.loc["tsn", "backbone_weights"] == ""
    assert rows.loc["lstm", "backbone_weights"] == f"smallcnn_tsn.pt sha256:{file_sha256(out)[:12]}"
    assert str(tmp_path) not in rows.loc["lstm", "backbone_weights"]


def test_a_checkpoint_without_that_backbone_is_refused_naming_what_it_has(tmp_path, capsys):
    checkpoint = tmp_path / "fusion.ckpt"
    torch.save({"state_dict": {"net.spatial.features.0.weight": torch.zeros(2)}}, checkpoint)
    assert main(["export-backbone", str(checkpoint), "--out", str(tmp_path / "w.pt")]) == 2
    error = capsys.readouterr().err
    assert "no 'backbone' weights" in error and "spatial" in error and str(checkpoint) in error
    assert not (tmp_path / "w.pt").exists()
    assert main(["export-backbone", str(checkpoint), "--out", str(tmp_path / "w.pt"), "--stream", "spatial"]) == 0
    assert list(torch.load(tmp_path / "w.pt", weights_only=True)) == ["features.0.weight"]


def test_a_payload_checkpoint_is_refused_before_anything_is_written(tmp_path):
    from tests.benchmark.run.test_checkpoint_safety import torch_payload

    marker = tmp_path / "marker"
    checkpoint = torch_payload(tmp_path / "p.ckpt", marker)
    assert main(["export-backbone", str(checkpoint), "--out", str(tmp_path / "w.pt")]) == 2
    assert not marker.exists() and not (tmp_path / "w.pt").exists()
