"""The one error envelope every endpoint answers with: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `title` or `articles.3.body`.")
    message: str
    type: str | None = None


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `validation_error`.")
    message: str
    details: list[FieldError] | dict[str, Any] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given error statuses, all in the envelope.

    Errors are JSON even on routes that answer text (FastAPI would document them in the route's media type
    alone), so the JSON content is spelt out; ``model`` keeps the envelope among the schema's components.
    """
    json_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    return {code: {"model": ErrorEnvelope, "content": json_content} for code in codes}
