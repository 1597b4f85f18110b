"""PostgreSQL defence in depth: the SQL that lets the application's login role append evidence but
never change or delete it (`mamori ledger grants ROLE`; docs/evidence.md, "PostgreSQL roles").

The schema belongs to an owner role that runs `mamori db upgrade`; the server connects as the
application role this SQL sets up. The refusing triggers hold for every role short of a superuser
who silences triggers; these grants hold even if a trigger were dropped.
"""

from __future__ import annotations

import re

from server.evidence.chain import kinds

CHAIN_APPEND = {"chain_links": "SELECT, INSERT", "chain_head": "SELECT, UPDATE",
                "chain_pending": "SELECT, INSERT, DELETE"}
ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_sql(role: str) -> list[str]:
    """The statements, in order, for an existing login role `role` (run by the schema's owner)."""
    if not ROLE.fullmatch(role):
        raise ValueError("a role name is lower-case letters, digits and _, starting with a letter")
    immutable = sorted(name for name, kind in kinds().items() if kind.immutable)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join([*immutable, *CHAIN_APPEND])} FROM {role}",
        f"REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {role}",
    ]
    statements += [f"GRANT {rights} ON {table} TO {role}" for table, rights in CHAIN_APPEND.items()]
    statements.append(f"REVOKE ALL ON alembic_version FROM {role}")
    statements.append(f"GRANT SELECT ON alembic_version TO {role}")
    return statements
