"""The plugin's multi-domain models."""
