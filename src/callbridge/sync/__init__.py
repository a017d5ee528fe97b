"""Sync: match a final call's number in one integration, decide by the rules, act once.

The stage's one entry is :func:`sync_call` (the ``sync`` job). Inside: ``inputs`` (what a
sync reads), ``people`` (who is who in the CRM), ``record_lookup`` (records named by id),
``decide`` (the one decision, shared with explain), ``executors`` (one per matrix action
type), ``writes`` (the exactly-once writes and their bookkeeping), ``run`` (the sync).
"""

from callbridge.sync.run import sync_call

__all__ = ["sync_call"]
