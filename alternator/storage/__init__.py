"""The storage contract every backend implements.

Operations see only this protocol. A backend stores tables described by
:class:`~alternator.schema.TableSchema` and items in DynamoDB-JSON shape; it knows nothing of
expressions, write isolation or HTTP.

Every change to items reaches a backend through one method, :meth:`Storage.write`, as a list of
:class:`ItemWrite`: replace, merge or delete one item, unconditionally or only if the item's
opaque *version* is still the one :meth:`Storage.read_versioned` returned. That is enough for
the read-modify-write loop in ``operations/write_path.py`` to give isolated updates on every
backend: the Cassandra backend does it with an LWT ``IF`` clause, the SQLite backend inside one
transaction. A write may carry the derived rows (index entries) that follow from it; the
backend applies them so that none is ever lost (docs/write-path.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from alternator.errors import ConditionalCheckFailedException, DynamoDBError
from alternator.schema import IndexSchema, TableSchema, VectorIndexSchema
from alternator.values import AttributeValue, Item

# An item's version is an opaque string; an absent item's version is None.
Version = str | None


class _Unconditional:
    """The ``expected`` of a write that does not depend on the item's current version."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNCONDITIONAL"


UNCONDITIONAL = _Unconditional()


@dataclass(frozen=True, slots=True)
class Merge:
    """Set and remove top-level attributes of an item without reading it; create it if absent."""

    set_attributes: Item
    remove: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DerivedRow:
    """One row that a table keeps besides its items (an index entry), ordered by ``sort``.

    ``space`` names the structure (``"index:NAME"``); ``partition`` and ``sort`` are
    order-preserving encodings (codec.encode_sortable); ``value`` None deletes the row.
    """

    space: str
    partition: bytes
    sort: bytes
    value: bytes | None
    # A vector index entry's vector (32-bit floats) and inline filter values
    # (docs/vector-search.md); a backend keeps them where its search can use them.
    vector: tuple[float, ...] | None = None
    filters: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class DerivedChange:
    """What a write changes besides its item: rows to delete and rows to put.

    ``stale`` are the rows the item had before the write (their keys), ``rows`` those it has
    after it; a backend deletes every stale row that ``rows`` does not put again.
    """

    stale: tuple[DerivedRow, ...]
    rows: tuple[DerivedRow, ...]

    @property
    def empty(self) -> bool:
        return not self.stale and not self.rows


NO_CHANGE = DerivedChange((), ())


@dataclass(frozen=True, slots=True)
class StreamPut:
    """The stream record of a write (docs/streams.md), stored with it and before it is
    acknowledged, at the write's timestamp: in hash bucket ``bucket`` of the shard generation
    (``timestamp // period_us``) of stream ``label``. ``data`` is the record's JSON body."""

    label: str
    bucket: int
    period_us: int
    data: bytes


# A position in a stream shard: (timestamp in microseconds, tie-break), ordered as a tuple.
StreamPosition = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One change to one item: ``new`` replaces it (an item), merges into it, or deletes it
    (None); ``expected`` makes it conditional on the item's version (None: still absent)."""

    key: Item
    new: Item | Merge | None
    expected: Version | _Unconditional = UNCONDITIONAL
    derived: DerivedChange = NO_CHANGE
    stream: StreamPut | None = None


@dataclass(frozen=True, slots=True)
class Guarded:
    """How a guarded write (``Storage.write_guarded``) ended: ``applied`` True, False (the
    guard failed; ``old`` is the item as the failed write saw it), or None (undecided: take the
    general path)."""

    applied: bool | None
    old: Item | None = None


UNDECIDED = Guarded(None)


@dataclass(frozen=True, slots=True)
class TxAction:
    """One action of a write transaction (docs/transactions.md): ``plan(old)`` is the write the
    action makes to the item as it is (None: it writes nothing, a condition check); it raises
    ConditionalCheckFailedException (or another DynamoDBError) to cancel the transaction. It is
    pure and may run more than once."""

    table: TableSchema
    key: Item
    plan: Callable[[Item | None], ItemWrite | None]


@dataclass(frozen=True, slots=True)
class TxCancel:
    """Why an action cancelled its transaction: DynamoDB's cancellation reason code, its
    message, and the item a failed condition saw (when asked for)."""

    code: str  # "ConditionalCheckFailed", "TransactionConflict", "ValidationError"
    message: str
    item: Item | None = None


def run_plan(action: TxAction, old: Item | None) -> tuple[ItemWrite | None, TxCancel | None]:
    """An action's write for the item as it is, or the reason it cancels its transaction."""
    try:
        return action.plan(old), None
    except ConditionalCheckFailedException as error:
        return None, TxCancel("ConditionalCheckFailed", error.message, error.item)
    except DynamoDBError as error:
        return None, TxCancel("ValidationError", error.message)


@dataclass(frozen=True, slots=True)
class SortCondition:
    """A range of sort-key values: ``op`` applied to ``values`` (already validated)."""

    op: Literal["=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"]
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True, slots=True)
class Role:
    """A CQL role, as authentication and authorization see it."""

    name: str
    salted_hash: str | None
    can_login: bool
    is_superuser: bool
    member_of: frozenset[str]


# CQL resource names: every keyspace, one keyspace, one table.
ALL_KEYSPACES = "data"


def table_resource(keyspace: str, table: str) -> str:
    return f"data/{keyspace}/{table}"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a Query or Scan: the items and, when more may follow, the last key read."""

    items: list[Item]
    last_key: Item | None


@dataclass(frozen=True, slots=True)
class SystemRows:
    """A page of a backend system table: rows as CQL values, and where to continue."""

    rows: list[dict[str, Any]]
    cursor: bytes | None  # opaque: where the next page starts
    partition_key: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServerEntry:
    """A server process serving the DynamoDB API, as the registry of servers holds it
    (docs/cluster.md): where it is placed and where clients reach it. The datacenter, address
    and ports identify it (one entry per server, however many --workers it has)."""

    datacenter: str
    rack: str
    address: str
    port: int  # plain HTTP; 0: none
    https_port: int  # HTTPS; 0: none


class Storage(Protocol):
    # True when every single write is already isolated (SQLite): read-modify-write then needs
    # the versioned write but never a distributed transaction.
    always_isolated: bool
    # True when stream record timestamps increase in commit order (SQLite), so that a stream
    # reader needs no time window behind now (docs/streams.md).
    ordered_stream_commits: bool

    # --- tables ---------------------------------------------------------------------------------
    async def create_table(self, schema: TableSchema) -> TableSchema:
        """Create the table; the schema as stored (with where the backend placed it).

        Raise ResourceInUseException if the name is taken."""

    async def delete_table(self, name: str) -> TableSchema:
        """Drop the table and its items; raise ResourceNotFoundException if absent."""

    async def get_table(self, name: str) -> TableSchema | None: ...

    async def list_tables(self) -> list[str]:
        """All table names, sorted."""

    async def update_table(self, schema: TableSchema, expected: TableSchema | None = None) -> bool:
        """Persist changed metadata (tags, settings) of an existing table; with ``expected``,
        only if the stored schema is still that one (False if it is not)."""

    # --- items ----------------------------------------------------------------------------------
    async def get_item(self, table: TableSchema, key: Item, consistent: bool) -> Item | None: ...

    async def write(self, table: TableSchema, writes: Sequence[ItemWrite]) -> list[bool]:
        """Apply each write; for each, whether it was applied (a conditional one whose
        version no longer matches is not). Not atomic as a whole, as BatchWriteItem is not;
        each single write, with its derived rows, is."""

    async def read_versioned(
        self, table: TableSchema, key: Item, serial: bool
    ) -> tuple[Item | None, Version]:
        """Read the item and its version; ``serial``: linearizably (Paxos) where that differs."""

    async def write_guarded(self, table: TableSchema, key: Item, new: Item | Merge | None,
                            exists: bool) -> Guarded:
        """One write conditional only on whether the item exists (``exists``) or not, in one
        round trip where the backend can (docs/write-path.md); ``Guarded(None)`` where it cannot
        tell, or cannot make this write so (the caller then takes the versioned loop)."""

    async def read_derived(
        self, table: TableSchema, space: str, partition: bytes, low: bytes | None,
        high: bytes | None, forward: bool, limit: int, consistent: bool,
    ) -> list[tuple[bytes, bytes]]:
        """The (sort, value) of the first ``limit`` derived rows of one partition whose sort
        lies in [low, high) (a None bound: unbounded), in sort order or its reverse."""

    async def scan_derived(
        self, table: TableSchema, space: str, segment: int, total_segments: int, limit: int,
        start: tuple[bytes, bytes] | None, consistent: bool,
    ) -> list[tuple[bytes, bytes, bytes]]:
        """(partition, sort, value) of the next ``limit`` derived rows of a space in scan
        order, after ``start`` (a partition and sort), within one parallel-scan segment."""

    def derived_segment_of(self, table: TableSchema, partition: bytes,
                           total_segments: int) -> int:
        """Which parallel-scan segment a derived partition falls in."""

    async def backfill(self, table: TableSchema, keys: Sequence[Item],
                       rows: Callable[[Item], tuple[DerivedRow, ...]]) -> None:
        """Put the derived rows ``rows(item)`` of each of these items as it is now: read
        again, and written so that a concurrent write of the item is never undone (Cassandra:
        at the timestamp of the version read)."""

    async def add_index(self, table: TableSchema, index: IndexSchema | VectorIndexSchema) -> None:
        """Make room for a new index's entries (before the schema naming it is stored)."""

    async def drop_index(self, table: TableSchema,
                         index: IndexSchema | VectorIndexSchema) -> None:
        """Remove an index's entries (after the schema without it is stored)."""

    async def search_vectors(
        self, table: TableSchema, index: VectorIndexSchema, partition: bytes | None,
        filters: dict[int, str], vector: tuple[float, ...], k: int,
    ) -> list[tuple[bytes, tuple[float, ...]]]:
        """(projected item JSON, stored vector) of the ``k`` entries of a vector index nearest
        ``vector`` (docs/vector-search.md), among those of ``partition`` (None: every entry)
        whose inline filter ``i`` is ``filters[i]``: exactly (SQLite) or approximately
        (Cassandra's ANN index), in no promised order."""

    async def recover(self) -> int:
        """Finish derived writes that a crashed server process left behind; how many."""

    async def claim(self, name: str, seconds: float, holder: str | None = None) -> bool:
        """Take the lease ``name`` for ``seconds`` if no server process holds it: True for the
        one process, of all those sharing the backend, that got it (the expiry service and
        index backfills divide their work with these). With ``holder`` (a UUID string), a
        lease already held by that holder is renewed for ``seconds`` from now instead."""

    # --- transactions (docs/transactions.md) ------------------------------------------------
    async def transact(self, actions: Sequence[TxAction]) -> list[TxCancel | None] | None:
        """Apply every action's write, atomically and isolated from other transactions; None
        when committed, else (nothing written) one entry per action, the reasons of those that
        cancelled it."""

    async def remember(self, name: str, value: bytes, seconds: float,
                       replace: bool = False) -> bytes | None:
        """Keep ``value`` under ``name`` for ``seconds`` (TransactWriteItems' client tokens):
        unless ``replace``, only if nothing is kept under it, returning what is (else None)."""

    async def forget(self, name: str) -> None:
        """Drop what :meth:`remember` keeps under ``name``."""

    async def read_together(self, reads: Sequence[tuple[TableSchema, Item]]
                            ) -> list[Item | None] | None:
        """The items as they all were at one moment (no write transaction half applied);
        None when a running transaction holds one of them."""

    # --- streams (docs/streams.md) ----------------------------------------------------------
    async def add_stream(self, table: TableSchema) -> None:
        """Make room for the records of the table's streams (before a schema with one is
        stored)."""

    async def read_stream(
        self, table: TableSchema, label: str, bucket: int, generation: int,
        after: StreamPosition, upto: StreamPosition, limit: int,
    ) -> tuple[list[tuple[int, int, bytes]], StreamPosition]:
        """(timestamp, tie, data) of the first ``limit`` records of one shard whose position
        is above ``after`` and at most ``upto``, in order; and the position up to which the
        shard was read (``upto``, or less where later records may still be committing)."""

    async def trim_streams(self, table: TableSchema, before_us: int) -> None:
        """Delete records older than ``before_us``, a bounded amount at a time (where records
        do not expire by themselves)."""

    # --- reads of many items ----------------------------------------------------------------------
    async def query(
        self,
        table: TableSchema,
        partition: AttributeValue,
        sort: SortCondition | None,
        forward: bool,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page: ...

    async def scan(
        self,
        table: TableSchema,
        segment: int,
        total_segments: int,
        limit: int,
        start_key: Item | None,
        consistent: bool,
    ) -> Page: ...

    # --- roles and permissions (CQL's, or the embedded backend's own) ----------------------------
    async def get_role(self, name: str) -> Role | None: ...

    async def role_permissions(self, name: str) -> dict[str, frozenset[str]]:
        """The permissions granted directly to a role: CQL resource name -> permission names."""

    async def grant(self, role: str, permissions: frozenset[str], resource: str) -> None: ...

    def table_resource(self, table: TableSchema) -> str:
        """The CQL resource a table's permissions are granted on."""

    # --- system tables ---------------------------------------------------------------------------
    async def read_system_table(
        self, keyspace: str, table: str, where: Item, limit: int, cursor: bytes | None,
    ) -> SystemRows:
        """Rows of a backend system table (``where``: partition-key column -> value, converted
        to the column's CQL type).

        Raises ResourceNotFoundException for a table the backend does not have.
        """

    async def write_system_table(
        self, keyspace: str, table: str, key: Item, row: Item | None
    ) -> None:
        """Insert ``row`` into a system table, or delete the row at ``key`` (row None).

        Attribute values are converted to the columns' CQL types.
        """

    def segment_of(self, table: TableSchema, key: Item, total_segments: int) -> int:
        """Which parallel-scan segment an item's key falls in."""

    # --- cluster (docs/cluster.md) -------------------------------------------------------------
    async def placement(self, address: str) -> tuple[str, str]:
        """The datacenter and rack of a server process at ``address``, when not configured:
        those of the backend node at that address if there is one, else of the local
        datacenter."""

    async def announce(self, server: ServerEntry, seconds: float) -> None:
        """Enter ``server`` in the registry of servers, or renew its entry, for ``seconds``."""

    async def withdraw(self, server: ServerEntry) -> None:
        """Remove ``server``'s entry from the registry of servers."""

    async def servers(self, datacenter: str) -> list[ServerEntry]:
        """The live (unexpired) entries of the registry of servers in ``datacenter``."""

    async def close(self) -> None: ...
