"""The risk workbench's watch-list (migration 0017_workbench): per user, the borrowers that person follows.

Per user, not per bank: the bank-wide watch-list already exists as the loan's five-category risk class
(`special_mention`, 关注), set with a reason and recorded in the loan's history; this list is an officer's own
working list and changes nobody else's view. `tenant_id` is the user's bank when the borrower was added, so a
user moved to another bank does not carry the list along.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Table

from wuxin.store.metadata import metadata

watchlist = Table(
    "watchlist",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("added_ms", BigInteger, nullable=False),
)
