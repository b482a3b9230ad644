"""Deep fusion learning curves drawn from the Lightning CSV log a run keeps."""
from __future__ import annotations

import pandas as pd

from benchmark.report.learning_curves import epoch_table, learning_curve_section

NAN = float("nan")


def _log() -> pd.DataFrame:
    """Lightning's CSVLogger layout: step rows, then per-epoch rows (validation, then training)."""
    rows = []
    for epoch, (train, val, top1, lr, stage) in enumerate([(2.0, 1.9, 0.3, 1e-3, 1), (1.2, 1.4, 0.6, 1e-3, 1),
                                                           (0.9, 1.1, 0.8, 1e-4, 2)]):  # fmt: skip
        rows.append({"epoch": epoch, "step": 10 * epoch + 9, "train/loss_step": train + 0.1})
        rows.append({"epoch": epoch, "step": 10 * epoch + 9, "val/loss": val, "val/top1": top1})
        rows.append({"epoch": epoch, "step": 10 * epoch + 9, "train/loss_epoch": train, "train/top1": top1 - 0.05,
                     "schedule/lr": lr, "schedule/stage": stage})  # fmt: skip
    rows.append({"epoch": 3, "step": 30, "test/map": 0.9})
    return pd.DataFrame(rows)


def test_epoch_table_has_one_row_per_training_epoch():
    table = epoch_table(_log())
    assert table.index.tolist() == [0, 1, 2]
    assert table["val/top1"].tolist() == [0.3, 0.6, 0.8]
    assert table["schedule/stage"].tolist() == [1, 1, 2]


def test_section_lists_every_deep_fusion_run_with_a_kept_log(tmp_path):
    runs = tmp_path / "runs"
    (runs / "df1").mkdir(parents=True)
    _log().to_csv(runs / "df1" / "metrics.csv", index=False)
    frame = pd.DataFrame([
        {"run_id": "df1", "status": "finished", "system": "deep_fusion", "dataset": "synthetic",
         "backbone": "smallcnn", "segments": 8, "top1": 0.84, "wall_s": 1200.0},
        {"run_id": "df2", "status": "finished", "system": "deep_fusion", "dataset": "synthetic",
         "backbone": "smallcnn", "segments": 8, "top1": 0.5, "wall_s": 10.0},  # no log kept
    ])  # fmt: skip
    lines, figures = learning_curve_section(frame, runs, tmp_path / "files", "files")
    text = "\n".join(lines)
    assert "Test top-1 84.0 % after 3 epochs (20 min)" in text
    assert "| 3 | 0.900 | 75.0 | 1.100 | 80.0 | 1e-04 | 2 |" in text
    assert "df2" not in text
    assert [path.name for path in figures] == ["deep_fusion_df1_learning_curve.png"] and figures[0].is_file()
    assert learning_curve_section(frame[frame["run_id"] == "df2"], runs, tmp_path / "files", "files") == ([], [])
