"""sops/formats"""
