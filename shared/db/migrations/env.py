"""Alembic environment: the database URL comes from the settings, never from alembic.ini."""

from alembic import context

from shared.config import get_database_settings
from shared.db.engine import make_engine
from shared.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=get_database_settings().url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(get_database_settings(), application_name="tidings-migrate")
    with engine.connect() as connection:
        # Several processes may migrate at once (replicas starting together): serialise them.
        connection.exec_driver_sql("SELECT pg_advisory_lock(7270)")
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        connection.exec_driver_sql("SELECT pg_advisory_unlock(7270)")
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
