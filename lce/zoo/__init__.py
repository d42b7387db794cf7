"""Model zoo: one spec per checkpoint, verified loading into torchvision architectures."""
