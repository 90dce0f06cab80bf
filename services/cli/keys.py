"""``tidings keys``: create (the first admin key, for one), list and revoke API keys, straight in the database.

The key is printed once on stdout, alone, so a script can capture it; details go to stderr.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from shared.api.keys import Scope

# The database modules are imported inside the commands: every ``tidings`` command builds this parser.


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="create, list and revoke API keys")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    create = commands.add_parser("create", help="create a key and print it (shown this once)")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=[s.value for s in Scope],
        help="repeat for several: ingest, query, admin (admin allows everything)",
    )
    create.add_argument("--name", default="created with tidings keys create")
    create.add_argument("--rate-limit", type=int, default=None, help="requests per minute (default: the server's)")
    create.add_argument(
        "--source",
        action="append",
        default=None,
        help="repeat for several: the only sources the key may write to (default: any source nobody registered)",
    )
    create.set_defaults(func=_create)

    grant = commands.add_parser("grant", help="set the sources a key may write to (replacing its list)")
    grant.add_argument("key_id", type=uuid.UUID)
    grant.add_argument("sources", nargs="*", metavar="SOURCE")
    grant.add_argument("--any", action="store_true", help="lift the list: any source nobody registered")
    grant.set_defaults(func=_grant)

    listing = commands.add_parser("list", help="list the keys that are not revoked (never the secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.set_defaults(func=_list)

    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", type=uuid.UUID)
    revoke.set_defaults(func=_revoke)


def _sessions() -> Any:
    from shared.config import get_settings
    from shared.db.engine import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(get_settings().database, application_name="tidings-cli"))


def _announce() -> None:
    """Tell the running API processes that a key changed (their key caches start afresh)."""
    from shared.api.ratelimit import keys_changed_sync
    from shared.config import get_redis_settings

    keys_changed_sync(get_redis_settings().url)


def _create(args: argparse.Namespace) -> int:
    if args.rate_limit is not None and args.rate_limit < 1:
        print("--rate-limit must be at least 1", file=sys.stderr)
        return 2
    from shared.api.keys import create_api_key

    with _sessions().begin() as session:
        made = create_api_key(
            session, name=args.name, scopes=args.scope, rate_limit_per_minute=args.rate_limit, sources=args.source
        )
    granted = f"; writes to {', '.join(made.values['sources'])} only" if args.source else ""
    print(
        f"created key {made.id} ({', '.join(made.values['scopes'])}{granted}); it is shown this once:", file=sys.stderr
    )
    print(made.key)
    return 0


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from shared.db.models import ApiKey

    stmt = select(ApiKey).order_by(ApiKey.id)
    if not args.all:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    with _sessions().begin() as session:
        for key in session.scalars(stmt):
            revoked = f"  revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
            granted = f"  sources: {','.join(key.sources)}" if key.sources is not None else ""
            print(f"{key.id}  {key.prefix}…  {','.join(key.scopes):<20} {key.name}{granted}{revoked}")
    return 0


def _grant(args: argparse.Namespace) -> int:
    from sqlalchemy import update

    from shared.db.models import ApiKey

    if args.any == bool(args.sources):
        print("name the sources the key may write to, or --any", file=sys.stderr)
        return 2
    sources = None if args.any else sorted(set(args.sources))
    with _sessions().begin() as session:
        found = session.execute(
            update(ApiKey).where(ApiKey.id == args.key_id).values(sources=sources).returning(ApiKey.id)
        )
        if found.first() is None:
            print(f"no key {args.key_id}", file=sys.stderr)
            return 1
    _announce()
    print(
        f"key {args.key_id} writes to {', '.join(sources) if sources else 'any source nobody registered'}",
        file=sys.stderr,
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select, update

    from shared.db.models import ApiKey

    with _sessions().begin() as session:
        found = session.scalar(select(ApiKey.id).where(ApiKey.id == args.key_id))
        if found is None:
            print(f"no key {args.key_id}", file=sys.stderr)
            return 1
        session.execute(
            update(ApiKey).where(ApiKey.id == args.key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=func.now())
        )
    _announce()
    print(f"revoked {args.key_id}", file=sys.stderr)
    return 0
