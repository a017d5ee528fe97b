"""Fold: a provider call's events become one call; a final call is queued for sync.

The stage's one entry is :func:`fold_call` (the ``fold`` job).
"""

from callbridge.fold.calls import fold_call

__all__ = ["fold_call"]
