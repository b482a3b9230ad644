"""Readers of the real datasets' official annotation files, one module per dataset.

Every module has ``load(root, split, annotations=None) -> DatasetSplits``: ``root`` is the dataset
on disk (videos or frame folders), ``annotations`` the folder of the official files (by default
found under ``root``, see each module). ``datamodules.datasets`` registers each module under its
own name (``ucf101``, ``hmdb51``, ``jester``, ``ssv2``, ``kinetics400``, ``ccv``, ``ucf11``,
``ucfsports``).
"""
