"""Providers: one back-end each, behind the same typed operations."""
