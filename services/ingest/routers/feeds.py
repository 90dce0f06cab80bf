"""Registered RSS/Atom feeds (/v1/feeds) — issue 6."""

from fastapi import APIRouter

router = APIRouter()
