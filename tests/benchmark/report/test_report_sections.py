import pandas as pd
import pytest

from benchmark.report.sections import data_notes_section, split_mean_section, systems_section


def _row(**values):
    base = dict(status="finished", dataset="ucf101", split="1", system="tsn", modality="rgb", backbone="vgg16",
                head="tsn", segments=3, seed=0, top1=0.5, map=0.5, n_test_evaluated=10, n_test_expected=10,
                n_test_failed=0, n_train_skipped=0)  # fmt: skip
    return {**base, **values}


def test_split_mean_needs_all_three_splits_and_averages_seeds_within_a_split_first():
    rows = [_row(run_id=f"{s}{seed}", split=s, seed=seed, top1=0.5 + 0.1 * int(s) + 0.02 * seed)
            for s in "123" for seed in (0, 1)]  # fmt: skip
    lines = split_mean_section(pd.DataFrame(rows))
    table = [line for line in lines if line.startswith("| ucf101")]
    assert len(table) == 1
    assert table[0].endswith("| 61.00 | 71.00 | 81.00 | 71.00 |")
    two_splits = pd.DataFrame([r for r in rows if r["split"] != "3"])
    assert "_No setting has finished runs on all three splits yet._" in split_mean_section(two_splits)


def test_systems_and_data_notes_list_fusions_skipped_videos_and_multi_label_scoring():
    frame = pd.DataFrame([
        _row(run_id="a"),
        _row(run_id="b", dataset="ccv", split="default", system="two_stream", head="fusion_linear_svm",
             modality="rgb+flow", top1=float("nan"), map=0.7, n_test_evaluated=9, n_test_failed=1, detail="C=1"),
        _row(run_id="c", dataset="synthetic", split="default", system="deep_fusion", head="deep_fusion",
             modality="rgb+flow", top1=0.928, top1_low=0.8886, top1_high=0.9568, map=0.998, n_test_evaluated=250,
             n_test_expected=250, backbone_weights="w.pt sha256:992af9256b47"),
    ])  # fmt: skip
    systems = "\n".join(systems_section(frame))
    assert "| ccv | default | two_stream | fusion_linear_svm | rgb+flow | – | – | 70.00 | 9/10 |  | C=1 |" in systems
    deep = "| synthetic | default | deep_fusion | deep_fusion | rgb+flow | 92.80 | [88.9, 95.7] | 99.80 | 250/250 |"
    assert deep + " w.pt sha256:992af9256b47 |  |" in systems
    assert "tsn |" not in systems.split("|---|")[-1]  # single-stream rows are not systems
    notes = "\n".join(data_notes_section(frame))
    assert "run `b` (ccv, fusion_linear_svm): 1 unreadable test videos" in notes
    assert "all-negative rows" in notes


@pytest.mark.parametrize("section", [split_mean_section, systems_section, data_notes_section])
def test_sections_are_empty_without_matching_rows(section):
    assert section(pd.DataFrame([_row(run_id="a", split="default")])) == []


def test_hybrid_section_is_laid_out_like_the_papers_tables():
    from benchmark.report.hybrid_tables import hybrid_section

    frame = pd.DataFrame([
        _row(run_id="h1", dataset="synthetic", split="default", system="hybrid", head="svm_mkl", top1=0.875, map=0.9),
        _row(run_id="h2", dataset="synthetic", split="default", system="hybrid", head="hybrid", top1=1.0, map=1.0,
             top1_low=0.9854, top1_high=1.0),
        _row(run_id="h3", dataset="ccv", split="default", system="hybrid", head="hybrid", top1=float("nan"), map=0.5),
        _row(run_id="t", system="tsn", head="tsn"),
    ])  # fmt: skip
    text = "\n".join(hybrid_section(frame))
    single, multi = text.split("### synthetic")[1], text.split("### ccv")[1].split("### synthetic")[0]
    assert "| SVM-MKL | `svm_mkl` | 87.5 | 86.8 |" in single  # top-1 next to the UCF-101 accuracy
    assert "| hybrid | `hybrid` | 100.0 [98.5, 100.0] | 91.3 |" in single  # with its interval where the row has one
    assert "| M-DBM | (not rebuilt: other authors' method) | – | 86.9 |" in single
    assert "| hybrid | `hybrid` | 50.0 | 83.5 |" in multi  # mAP next to the CCV mAP
    assert "| SVM-MKL | `svm_mkl` | – | 75.4 |" in multi
    assert hybrid_section(frame[frame["system"] != "hybrid"]) == []
