"""What a worker failure is: the error codes and messages the client receives, and the worker's log."""

from __future__ import annotations

import os
import sys


INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
BAD_REQUEST = "BAD_REQUEST"
INTERNAL_ERROR = "INTERNAL_ERROR"

UNEXPECTED_MODEL_ERROR = (
    "Encountered an unexpected error while evaluating the model. Verify"
    " that the serialized input Dataframe is compatible with the model for"
    " inference."
)


def log(message):
    sys.stderr.write(f"[mlserve-worker {os.getpid()}] {message}\n")
    sys.stderr.flush()


class WorkerError(Exception):
    """A request failure with the error code and message the client receives."""

    def __init__(self, error_code, message, stack_trace=None):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.stack_trace = stack_trace


class LoadError(Exception):
    """The model cannot be loaded; the message says why in terms a person can act on."""
