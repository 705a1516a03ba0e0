"""Handling of the domain field and checks of loaded datasets."""
