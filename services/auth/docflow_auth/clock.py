"""UTC time as DocFlow stores it.

Times are stored as BSON dates and read back with ``docflow_shared.mongo.stored_datetime``, so
reads never depend on a server's quirks; ``now`` is already what a BSON date keeps (milliseconds).
"""

from __future__ import annotations

from datetime import datetime

from docflow_shared.mongo import utc_now


def now() -> datetime:
    return utc_now()
