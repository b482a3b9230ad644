"""Run ids are hashes of the configuration: they must never change for the same configuration."""
from benchmark.run.config import RunConfig, resolve_config


def test_run_ids_of_fixed_configurations_keep_their_values():
    assert RunConfig().run_id == "aee2a59c34c0"
    assert resolve_config("synthetic", head="tsn", segments=2, epochs=1, batch_size=4).run_id == "1b89f06d894d"
    assert resolve_config("ucf101", split="1", head="lstm", backbone="resnet18", test_clips=2).run_id == "5585f87f592f"
    assert resolve_config("ssv2", head="fcn3d").run_id == "e598e760d951"
