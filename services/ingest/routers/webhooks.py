"""Signed webhooks from partners and feeds (/v1/webhooks/{source}) — issue 6."""

from fastapi import APIRouter

router = APIRouter()
