"""HTTP routes of the ledger part."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
