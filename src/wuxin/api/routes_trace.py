"""HTTP routes of the trace part."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
