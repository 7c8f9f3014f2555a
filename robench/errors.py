"""Errors a user can cause. The CLI prints them as one line and exits non-zero; tracebacks are for bugs."""


class RobenchError(Exception):
    """A problem with the user's input (file, option, model, data), stated as one clear sentence."""

    exit_code = 2


class CheckpointError(RobenchError):
    """A checkpoint that cannot be loaded safely or does not fit its architecture/card."""


class DatasetNotFoundError(RobenchError):
    """A dataset whose files are not under the local data root (nothing is downloaded at run time)."""


class AttackError(RobenchError):
    """An attack produced an output that fails verification, or was configured wrongly."""


class Note(UserWarning):
    """Something robench adapted or chose for the user (a checkpoint's keys, a fallback): shown as
    ``robench: note: ...``, never an error."""
