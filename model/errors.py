"""Errors of the neural code for bad input (configs, data, model files); torch-free to import."""


class ModelError(Exception):
    """Bad input to the model layer: a clear one-line message naming what is wrong."""
