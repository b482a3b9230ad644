"""Run `stbench regress` with one known defect planted, to measure what the check catches.

    python tests/power/plant_defect.py NAME [regress options, e.g. --work-dir DIR]

NAME is one of :data:`PLANTS`. The defect is patched into this process only (the tree is not
changed); the check runs in-process with the pinned numerics of ``stbench regress``. Use a work
folder of its own: a feature cache built by an unplanted run has the same key and would hide a
defect of the data path. Not part of CI.
"""
from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmark.report.regress import PINNED_NUMERICS  # noqa: E402  (no torch import yet)

os.environ.update(PINNED_NUMERICS)

import torch  # noqa: E402

HIDDEN_TO_HIDDEN = ("weight_hh", "bias_hh")
SWAPPED_TRAINING_PAIR = ("Growing", "Shrinking")


def drop_from_optimizer(should_drop) -> None:
    """Leave the parameters ``should_drop(name, module_tree)`` picks out of every optimizer group."""
    import benchmark.run.optim as optim

    original = optim.parameter_groups

    def groups(model, lr, weight_decay):
        dropped = {id(p) for name, p in model.named_parameters() if should_drop(name, model)}
        result = original(model, lr, weight_decay)
        kept = [{**group, "params": [p for p in group["params"] if id(p) not in dropped]} for group in result]
        return [group for group in kept if group["params"]]

    optim.parameter_groups = groups


def plant_recurrent_hidden_untrained() -> None:
    drop_from_optimizer(lambda name, model: any(part in name for part in HIDDEN_TO_HIDDEN))


def plant_batchnorm_after_first_untrained() -> None:
    def after_first_bn(name: str, model) -> bool:
        if not hasattr(getattr(model, "backbone", None), "batchnorms"):
            return False
        later = {id(p) for bn in model.backbone.batchnorms()[1:] for p in bn.parameters(recurse=False)}
        return id(dict(model.named_parameters())[name]) in later

    drop_from_optimizer(after_first_bn)


def plant_trn_random_eval_tuples() -> None:
    import heads.trn as trn
    from heads.tuples import draw_ranks, tuples_tensor

    def tuples(self):
        drawn = draw_ranks(self.num_tuples, trn.TUPLES_PER_SCALE)
        return tuples_tensor(self.num_frames, self.scale, drawn).to(self.eval_tuples.device)

    trn.RelationScale.tuples = tuples


def plant_flip_without_label_swap() -> None:
    import datamodules.clip_dataset as clip_dataset

    original = clip_dataset.ClipDataset.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.flip_label_map = None

    clip_dataset.ClipDataset.__init__ = init


def plant_test_frames_out_of_order() -> None:
    import datamodules.clip_dataset as clip_dataset

    original = clip_dataset.ClipDataset._indices

    def indices(self, generator):
        sample = original(self, generator)
        if self.mode == "train":
            return sample

        def shuffled(num_frames: int):
            chosen = list(sample(num_frames))
            order = torch.randperm(len(chosen), generator=torch.Generator().manual_seed(num_frames))
            return [chosen[i] for i in order]

        return shuffled

    clip_dataset.ClipDataset._indices = indices


def plant_reversed_pair_swapped_in_training() -> None:
    import datamodules.datamodule as datamodule

    original = datamodule.VideoDataModule.setup

    def setup(self, stage=None):
        original(self, stage)
        names = self.splits.class_names
        a, b = (names.index(name) for name in SWAPPED_TRAINING_PAIR)
        swap = {a: b, b: a}
        train = [replace(r, label=swap.get(r.label, r.label)) for r in self.splits.train]
        self.splits = replace(self.splits, train=train)

    datamodule.VideoDataModule.setup = setup


PLANTS = {
    "recurrent_hidden_untrained": plant_recurrent_hidden_untrained,
    "trn_random_eval_tuples": plant_trn_random_eval_tuples,
    "flip_without_label_swap": plant_flip_without_label_swap,
    "batchnorm_after_first_untrained": plant_batchnorm_after_first_untrained,
    "test_frames_out_of_order": plant_test_frames_out_of_order,
    "reversed_pair_swapped_in_training": plant_reversed_pair_swapped_in_training,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in PLANTS:
        print(f"usage: {sys.argv[0]} {{{','.join(PLANTS)}}} [regress options]", file=sys.stderr)
        return 2
    PLANTS[sys.argv[1]]()
    from benchmark.cli.main import main as stbench

    return stbench(["regress", *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
