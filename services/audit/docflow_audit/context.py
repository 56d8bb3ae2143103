"""Everything the audit service wires together in its lifespan, in one place."""

from __future__ import annotations

from docflow_audit.access.repository import AccessRepository
from docflow_audit.access.service import AccessService
from docflow_audit.settings import AuditSettings
from docflow_audit.trail.repository import TrailRepository
from docflow_audit.trail.service import TrailService
from docflow_shared.runtime import ContextBase, ServiceRuntime

# the audit service publishes nothing: no collection carries an outbox
OUTBOX_COLLECTIONS: tuple[str, ...] = ()


class AuditContext(ContextBase[AuditSettings]):
    """The trail, audit's projection of who may read it, and the services over them."""

    def __init__(self, runtime: ServiceRuntime, settings: AuditSettings) -> None:
        super().__init__(runtime, settings)
        self.access_repository = AccessRepository(runtime.db)
        self.trail_repository = TrailRepository(runtime.db)
        self.access = AccessService(self.access_repository)
        self.trail = TrailService(self.trail_repository, self.access, append_attempts=settings.append_attempts,
                                  export_max_records=settings.export_max_records)

    async def create_indexes(self) -> None:
        for repository in (self.access_repository, self.trail_repository):
            await repository.create_indexes()
