"""Corrections to dedup decisions (mark an article as not a duplicate) — issue 3."""

from fastapi import APIRouter

router = APIRouter()
