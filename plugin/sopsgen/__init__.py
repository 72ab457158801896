"""sopsgen: generate secrets once, keep them SOPS-encrypted in git, render them deterministically."""

__version__ = "0.1.0"
