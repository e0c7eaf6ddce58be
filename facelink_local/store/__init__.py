"""SQLite storage: one file in the data folder, one writer, named migrations.

Every write of a request happens inside one `Store.write()` block, so it
commits whole or not at all.
"""

from .db import Store
from .schema import schema_version

__all__ = ["Store", "schema_version"]
