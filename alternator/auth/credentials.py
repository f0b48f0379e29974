"""Who is asking: CQL roles as AWS credentials, cached for a short validity.

The access key id is a role name and the secret access key is that role's ``salted_hash``. A
role is resolved together with everything authorization needs (superuser status and the
permissions of the role and of every role granted to it), and kept for ``validity`` seconds, so
that a changed password or a new GRANT takes effect within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from alternator.cache import ExpiringCache
from alternator.storage import Storage

MAX_ROLE_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated role: its secret and the permissions it holds, inherited ones included."""

    name: str
    secret: str
    is_superuser: bool
    permissions: dict[str, frozenset[str]]


class RoleCache:
    def __init__(self, storage: Storage, validity: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._storage = storage
        self._cache: ExpiringCache[str, Principal | None] = ExpiringCache(validity, clock=clock)

    async def principal(self, name: str) -> Principal | None:
        """The role that may sign requests as ``name``; None if it does not exist or cannot log in."""
        return await self._cache.get(name, lambda: self._load(name))

    @property
    def lookups(self) -> tuple[int, int]:
        """(hits, misses) of the cache so far."""
        return self._cache.hits, self._cache.misses

    def invalidate(self, name: str) -> None:
        """Forget a role, after this process changed its permissions."""
        self._cache.invalidate(name)

    async def _load(self, name: str) -> Principal | None:
        role = await self._storage.get_role(name)
        if role is None or not role.can_login or not role.salted_hash:
            return None
        superuser = role.is_superuser
        permissions: dict[str, frozenset[str]] = {}
        seen = {name}
        frontier = [name]
        for _ in range(MAX_ROLE_DEPTH):
            if not frontier:
                break
            granted: list[str] = []
            for member in frontier:
                current = role if member == name else await self._storage.get_role(member)
                if current is None:
                    continue
                superuser = superuser or current.is_superuser
                for resource, perms in (await self._storage.role_permissions(member)).items():
                    permissions[resource] = permissions.get(resource, frozenset()) | perms
                granted += [r for r in current.member_of if r not in seen]
            seen.update(granted)
            frontier = granted
        return Principal(name, role.salted_hash, superuser, permissions)
