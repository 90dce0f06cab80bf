"""Sources and their webhook signing secrets (/v1/sources) — issue 6."""

from fastapi import APIRouter

router = APIRouter()
