"""Everything the routes service wires together in its lifespan, in one place."""

from __future__ import annotations

from docflow_routes.deputies.repository import DeputyRepository
from docflow_routes.deputies.service import DeputyService
from docflow_routes.external.repository import ExternalRepository
from docflow_routes.external.secrets import load_code_key
from docflow_routes.external.service import ExternalService
from docflow_routes.projection.repository import ProjectionRepository
from docflow_routes.projection.service import ProjectionService
from docflow_routes.requests.actions import RouteActions
from docflow_routes.requests.lifecycle import RequestLifecycle
from docflow_routes.requests.repository import REQUESTS, SignatureRequestRepository
from docflow_routes.requests.service import SignatureRequestService
from docflow_routes.requests.timers import RouteTimers
from docflow_routes.settings import RoutesSettings
from docflow_shared.runtime import ContextBase, ServiceRuntime
from docflow_shared.sealed import SecretSealer

OUTBOX_COLLECTIONS = (REQUESTS,)


class RoutesContext(ContextBase[RoutesSettings]):
    """Repositories and services of the routes service, built once per process."""

    def __init__(self, runtime: ServiceRuntime, settings: RoutesSettings) -> None:
        super().__init__(runtime, settings)
        db, outbox, event = runtime.db, runtime.outbox, runtime.event
        self.projection_repository = ProjectionRepository(db)
        self.request_repository = SignatureRequestRepository(db, outbox)
        self.deputy_repository = DeputyRepository(db)
        self.deputies = DeputyService(repository=self.deputy_repository, projection=self.projection_repository,
                                      make_event=event)
        self.external_repository = ExternalRepository(db)
        self.external = ExternalService(
            repository=self.external_repository, requests=self.request_repository,
            projection=self.projection_repository, make_event=event, settings=settings,
            sealer=SecretSealer.configured(settings.event_secret_keys, settings.event_secret_key_id,
                                           data_dir=settings.data_dir),
            code_key=load_code_key(settings.secret_key, settings.data_dir))
        self.request_lifecycle = RequestLifecycle(
            repository=self.request_repository, projection=self.projection_repository,
            external=self.external, make_event=event, reminder_seconds=settings.reminder_seconds,
            reminder_limit=settings.reminder_limit)
        self.requests = SignatureRequestService(
            repository=self.request_repository, projection=self.projection_repository,
            lifecycle=self.request_lifecycle, deputies=self.deputies, make_event=event,
            reminder_seconds=settings.reminder_seconds, reminder_min_seconds=settings.reminder_min_seconds)
        self.actions = RouteActions(repository=self.request_repository, projection=self.projection_repository,
                                    lifecycle=self.request_lifecycle, make_event=event)
        self.timers = RouteTimers(lifecycle=self.request_lifecycle, repository=self.request_repository,
                                  projection=self.projection_repository)
        self.projection = ProjectionService(repository=self.projection_repository, requests=self.request_lifecycle)

    async def create_indexes(self) -> None:
        for repository in (self.processed, self.projection_repository, self.request_repository,
                           self.deputy_repository, self.external_repository):
            await repository.create_indexes()
