"""Converters that turn raw recommendation data into RecBole atomic files with a domain field."""
