"""HTTP routes of the protocols part."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
