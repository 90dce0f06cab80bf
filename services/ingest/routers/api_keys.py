"""API keys with scopes (/v1/api-keys) — issue 7."""

from fastapi import APIRouter

router = APIRouter()
