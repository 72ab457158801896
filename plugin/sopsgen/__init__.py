"""sopsgen: generate secrets once, keep them SOPS-encrypted in git, render them the same way."""

__version__ = "0.1.0"
