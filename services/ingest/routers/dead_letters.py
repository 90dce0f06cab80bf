"""Dead-lettered articles and their replay (/v1/dead-letters) — issue 7."""

from fastapi import APIRouter

router = APIRouter()
