"""Model zoo: one spec per checkpoint, verified loading into torchvision architectures.

``spec`` (what a checkpoint is), ``catalog``/``torchvision_catalog``/``registry`` (the registered
models and their published names), ``families`` (one key remapping per training codebase),
``fetch`` (download, resume, sha256), ``safe_load`` (weights-only unpickling), ``loading`` (the
strict load and materialization) and ``checkpoint`` (the normalized format every stage reads).
"""
