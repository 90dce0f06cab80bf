"""Database layer: SQLAlchemy 2 models, engine and session factories, Alembic migrations."""
