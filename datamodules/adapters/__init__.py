"""One module per dataset: the reader of its official annotation files and its facts.

Every module has ``load(root, split, annotations=None) -> DatasetSplits``: ``root`` is the dataset
on disk (videos or frame folders), ``annotations`` the folder of the official files (by default
found under ``root``, see each module); and ``SPEC``, its :class:`~datamodules.dataset_spec.DatasetSpec`
(class count, flip policy, decode size, training protocol, metric). ``datamodules.datasets`` lists
every module's ``SPEC`` under its name (``synthetic``, ``ucf101``, ``hmdb51``, ``jester``, ``ssv2``,
``kinetics400``, ``ccv``, ``ucf11``, ``ucfsports``).
"""
