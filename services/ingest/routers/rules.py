"""User tagging rules (/v1/rules) and their backfill progress — issue 4."""

from fastapi import APIRouter

router = APIRouter()
