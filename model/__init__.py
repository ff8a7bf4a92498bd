"""Ceol's neural code (PyTorch, never Qt): one recurrent core and the heads built on it.

Importing this package is cheap: torch is imported by the submodules that need it.
"""
