"""Architectures of published checkpoints that torchvision does not provide."""
