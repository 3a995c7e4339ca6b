"""DevStack: the whole local Leadflow in one process, started by ``make dev`` and by the e2e tests.

Start order matters and is the point of this module: bind the port first (a taken port fails
at once), start moto, create the template's resources, set the environment the handlers read,
import the handlers, serve, start the pollers and the clock, apply the definitions. Stopping
undoes it in reverse and restores the environment and clock, so tests can run a stack in
their own process.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from leadflow_local.activity import ActivityTracker
from leadflow_local.apigw import HttpRequest, HttpResponse, RouteTable
from leadflow_local.errors import BundleRefusedError, StackError
from leadflow_local.http_front import Front, HttpFront
from leadflow_local.lambda_runtime import LambdaFunction
from leadflow_local.local_routes import LocalRoutes
from leadflow_local.timekeeper import AdvanceReport, TimeKeeper

if TYPE_CHECKING:
    from leadflow_local.moto_bridge import SentMail

log = logging.getLogger("leadflow_local")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_DEFINITIONS = REPO_ROOT / "examples" / "demo.yaml"
ACCOUNT = "123456789012"  # moto's default account
_DRAIN_TIMEOUT = 60.0

_active_lock = threading.Lock()
_active: DevStack | None = None


class DevStack:
    """Leadflow on an embedded AWS. Use as a context manager, or ``start()``/``stop()``.

    ``port=0`` picks a free port (tests); ``definitions=None`` applies no bundle.
    """

    def __init__(
        self,
        *,
        port: int = 3000,
        host: str = "127.0.0.1",
        template: Path = DEFAULT_TEMPLATE,
        definitions: Path | None = None,
        admin_token: str | None = None,
        clock_speed: float = 1.0,
        parameters: dict[str, str] | None = None,
        stack_name: str = "leadflow-local",
        region: str = "us-east-1",
        max_schedule_steps: int = 100,
    ) -> None:
        if clock_speed <= 0:
            raise StackError("--clock-speed must be positive")
        self.host = host
        self.requested_port = port
        self.template_path = Path(template)
        self.definitions_path = Path(definitions) if definitions else None
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.clock_speed = clock_speed
        self.parameters = parameters
        self.stack_name = stack_name
        self.region = region
        self.max_schedule_steps = max_schedule_steps
        self.url = ""
        self.port = 0  # the port served on, once started (``port=0`` asks for a free one)
        self.ready_seconds = 0.0
        self.summary: list[str] = []
        self.warnings: list[str] = []
        self.origin_note = ""
        self.functions: dict[str, LambdaFunction] = {}
        self._tracker = ActivityTracker()
        self._paused = threading.Event()
        self._pollers: list[Any] = []
        self._cleanup: list[Any] = []
        self._front: Front | None = None
        self._timekeeper: TimeKeeper | None = None
        self._timers: Any = None
        self._routes: RouteTable | None = None
        self._scheduler: Any = None
        self._moto_endpoint = ""
        self._registry: Any = None

    # ------------------------------------------------------------- lifecycle
    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> DevStack:
        """Bring everything up; on any failure, undo what started and raise."""
        global _active
        with _active_lock:
            if _active is not None:
                raise StackError(
                    "another DevStack runs in this process; moto's backends are process-wide: stop it first"
                )
            _active = self
        self._cleanup.append(_release_active)
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Stop serving, polling and ticking, stop moto, restore the environment and clock."""
        while self._cleanup:
            step = self._cleanup.pop()
            try:
                step()
            except Exception:
                log.exception("stopping the local stack: a step failed")

    def _start(self) -> None:
        from leadflow import clock as core_clock
        from leadflow_local.bus import TargetDelivery, wire_rules
        from leadflow_local.moto_bridge import MotoServer, SqsTimers
        from leadflow_local.resources import AwsPlace, ResourceRegistry
        from leadflow_local.scheduler import Scheduler
        from leadflow_local.template import build_model, load_template

        document = self._read_definitions()  # a missing file fails before anything starts
        http = HttpFront(self.host, self.requested_port)
        self._cleanup.append(http.stop)
        self.port = http.port
        self.url = f"http://{self.host}:{self.port}"

        template = load_template(self.template_path, self.region)
        moto = MotoServer()
        self._moto_endpoint = moto.start()
        self._cleanup.append(moto.stop)

        place = AwsPlace(self._moto_endpoint, self.region, ACCOUNT, self.stack_name, self.url)
        registry = ResourceRegistry(template, place, self.parameters)
        self._registry = registry
        registry.create_all()
        model = build_model(template, registry.resolver, registry.active)
        self.warnings = list(model.warnings) + [
            f"{kind} x{count} is neither created nor known to be unneeded: add it to resources.py"
            for kind, count in sorted(registry.unknown.items())
        ]

        self._install_environment(model, template, registry)
        clock = core_clock.AdjustableClock(speed=self.clock_speed)
        previous_clock = core_clock.install(clock)
        self._cleanup.append(lambda: core_clock.install(previous_clock))

        from leadflow_local.lambda_runtime import load_functions

        self.functions = load_functions(model.functions)
        self._routes = RouteTable(model.routes)
        api_ids = [lid for lid, res in template.resources.items() if res["Type"] == "AWS::ApiGatewayV2::Api"]
        api_id = str(registry.resolver.ref(api_ids[0])) if api_ids else "local"
        self._front = Front(
            routes=self._routes,
            functions=self.functions,
            admin_token=self.admin_token,
            account=ACCOUNT,
            api_id=api_id,
            clock=clock,
            local=LocalRoutes(self),
        )
        http.serve(self._front.dispatch_noted)

        sqs, events = registry.client("sqs"), registry.client("events")
        self._timers = SqsTimers(ACCOUNT, self.region)
        delivery = TargetDelivery(
            functions=self.functions, sqs=sqs, events=events, queue_urls=registry.queue_urls
        )
        self._pollers = self._event_source_pollers(model, registry, sqs)
        self._pollers += wire_rules(
            model.rules,
            delivery=delivery,
            events=events,
            sqs=sqs,
            timers=self._timers,
            tracker=self._tracker,
            account=ACCOUNT,
            region=self.region,
            stack_name=self.stack_name,
            paused=self._paused,
        )
        for poller in self._pollers:
            poller.start()
        self._cleanup.append(self._stop_pollers)

        self._scheduler = Scheduler(
            model.schedules,
            clock=clock,
            delivery=delivery,
            tracker=self._tracker,
            account=ACCOUNT,
            region=self.region,
        )
        self._timekeeper = TimeKeeper(
            clock,
            timers=self._timers,
            scheduler=self._scheduler,
            drain=self.drain,
            speed=self.clock_speed,
            max_schedule_steps=self.max_schedule_steps,
            paused=self._paused,
        )
        self._timekeeper.start()
        self._cleanup.append(self._timekeeper.stop)

        self._cleanup.append(http.stop)  # so stopping begins by refusing new requests
        if self.definitions_path is not None and document is not None:
            self._apply_definitions(self.definitions_path, document)
        self.summary = self._describe(registry, model)

    def _install_environment(self, model: Any, template: Any, registry: Any) -> None:
        import os

        from leadflow import aws as core_aws
        from leadflow import settings as core_settings
        from leadflow_local.environment import (
            aws_environment,
            install_environment,
            localize_api_urls,
            merge_function_environments,
        )

        merged = merge_function_environments(model.functions.values())
        api_refs = [
            str(registry.resolver.ref(lid))
            for lid, res in template.resources.items()
            if res["Type"] == "AWS::ApiGatewayV2::Api"
        ]
        merged = localize_api_urls(merged, api_refs, self.region, self.url)
        values = {**merged, **aws_environment(self._moto_endpoint, self.region)}
        if "POWERTOOLS_METRICS_NAMESPACE" not in values and "POWERTOOLS_METRICS_NAMESPACE" not in os.environ:
            values["POWERTOOLS_METRICS_NAMESPACE"] = "Leadflow"
        restore = install_environment(values)

        def reset_core() -> None:
            core_settings.reset_settings()
            core_aws.reset_clients()

        def undo() -> None:
            restore()
            reset_core()

        self._cleanup.append(undo)
        reset_core()

    def _stop_pollers(self) -> None:
        for poller in self._pollers:  # signal them all first: each may be waiting on an empty queue
            poller.signal_stop()
        for poller in self._pollers:
            poller.stop()

    def _event_source_pollers(self, model: Any, registry: Any, sqs: Any) -> list[Any]:
        from leadflow_local.pollers import SqsEventSourcePoller

        pollers = []
        for trigger in model.sqs_triggers:
            if not trigger.enabled:
                continue
            url = registry.queue_urls.get(trigger.queue_arn)
            if url is None:
                raise StackError(
                    f"{trigger.logical_id}: queue {trigger.queue_arn} is not a queue of the template"
                )
            pollers.append(
                SqsEventSourcePoller(
                    trigger,
                    self.functions[trigger.function],
                    sqs=sqs,
                    queue_url=url,
                    timers=self._timers,
                    tracker=self._tracker,
                    region=self.region,
                    paused=self._paused,
                )
            )
        return pollers

    def _read_definitions(self) -> bytes | None:
        if self.definitions_path is None:
            return None
        try:
            return self.definitions_path.read_bytes()
        except OSError as error:
            path = self.definitions_path
            raise StackError(f"cannot read the definitions file {path}: {error.strerror}") from error

    def _apply_definitions(self, path: Path, document: bytes) -> None:
        """PUT the bundle through the real admin route, exactly as ``leadflow apply`` would."""
        import json

        content_type = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
        document, content_type = self._follow_served_port(document, content_type)
        response = self.request(
            "PUT",
            "/v1/admin/definitions",
            body=document,
            headers={"Content-Type": content_type, "Authorization": f"Bearer {self.admin_token}"},
        )
        if response.status != 200:
            try:
                refusal = json.loads(response.body)["error"]
            except (ValueError, KeyError, TypeError):
                refusal = {"message": response.body.decode(errors="replace")[:500]}
            problems = {str(key): str(value) for key, value in (refusal.get("fields") or {}).items()}
            message = (
                f"HTTP {response.status} {refusal.get('code', '')}: {refusal.get('message', '')}".strip()
            )
            raise BundleRefusedError(str(path), message, problems)

    def _follow_served_port(self, document: bytes, content_type: str) -> tuple[bytes, str]:
        """The bundle with its default-port local origins also allowing the served port (demo_origins).

        A document that does not parse is sent as it is, so the admin API reports its errors.
        """
        import json

        from leadflow.definitions import DefinitionsError
        from leadflow.definitions.document import read_document
        from leadflow_local.demo_origins import follow_port, served_origins

        try:
            parsed = read_document(document, content_type)
        except DefinitionsError:
            return document, content_type
        followed, changed = follow_port(parsed, self.host, self.port)
        if not changed:
            return document, content_type
        self.origin_note = (
            f"Origins {', '.join(served_origins(self.host, self.port))} allowed where the definitions "
            f"allow port 3000 ({', '.join(changed)})"
        )
        # JSON, so nothing is re-typed on the way back (YAML 1.1 and 1.2 read some scalars apart);
        # the dates YAML parsed go as the ISO text the definitions accept.
        return json.dumps(followed, default=_iso_date).encode(), "application/json"

    def _describe(self, registry: Any, model: Any) -> list[str]:
        from leadflow_local.resources import NOT_NEEDED

        created = ", ".join(
            f"{count} {kind.split('::')[-1]}" for kind, count in sorted(registry.created.items())
        )
        lines = [f"Resources in the embedded AWS ({self._moto_endpoint}): {created or 'none'}"]
        lines.append(f"Functions in-process: {', '.join(sorted(self.functions)) or 'none'}")
        if self._routes is not None:
            lines.append(f"HTTP routes: {len(self._routes)}")
        lines.extend(f"Poller: {poller.describe()}" for poller in self._pollers)
        for entry in self.schedules():
            lines.append(f"Schedule: {entry['name']} {entry['expression']} (next {entry['next']})")
        if self.origin_note:
            lines.append(self.origin_note)
        if registry.not_needed:
            lines.append(
                "Not needed locally: "
                + ", ".join(
                    f"{kind} x{count} ({NOT_NEEDED[kind]})"
                    for kind, count in sorted(registry.not_needed.items())
                )
            )
        return lines

    # ------------------------------------------------------------- controls
    def _http_request(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None
    ) -> HttpRequest:
        pairs = [("Host", self.url.removeprefix("http://")), *(headers or {}).items()]
        if body:
            pairs.append(("Content-Length", str(len(body))))
        return HttpRequest(method=method, target=path, headers=pairs, body=body)

    def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> HttpResponse:
        """Send a request through the front in-process (no socket), as the definitions apply does."""
        if self._front is None:
            raise StackError("the stack is not started")
        return self._front.dispatch(self._http_request(method, path, body, headers))

    def route_event(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The function a request reaches and the API Gateway event it gets, not invoked."""
        if self._front is None:
            raise StackError("the stack is not started")
        return self._front.route_event(self._http_request(method, path, body, headers))

    def client(self, service: str) -> Any:
        """A boto3 client on the embedded AWS, for tests and scripts that inspect it."""
        if self._registry is None:
            raise StackError("the stack is not started")
        return self._registry.client(service)

    @property
    def aws_endpoint(self) -> str:
        return self._moto_endpoint

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Call one function's handler directly (the in-process comparison in the benchmark)."""
        return self.functions[logical_id].invoke(event)

    def now(self) -> datetime:
        from leadflow import clock as core_clock

        return core_clock.now()

    def advance(self, delta: timedelta | str) -> AdvanceReport:
        """Move the stack's clock forward, running due schedules, delays and retries on the way."""
        from leadflow_local.schedule_expr import parse_duration

        if self._timekeeper is None:
            raise StackError("the stack is not started")
        return self._timekeeper.advance(delta if isinstance(delta, timedelta) else parse_duration(delta))

    def drain(self, timeout: float = _DRAIN_TIMEOUT) -> int:
        """Process queued messages until every queue is idle; the number of messages handled."""
        deadline = time.monotonic() + timeout
        total = 0
        while True:
            generation = self._tracker.generation
            handled = sum(poller.poll_once(flush=True) for poller in self._pollers)
            total += handled
            self._tracker.wait_idle(max(0.0, deadline - time.monotonic()))
            if handled == 0 and generation == self._tracker.generation:
                return total
            if time.monotonic() > deadline:
                raise StackError(f"the queues did not settle within {timeout:.0f} s (a message loop?)")

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold background work (queue pollers, schedule ticks) inside the block.

        Messages stay queued and schedules wait until the block ends, so a test can look at
        the state between a request and its processing; ``drain()`` and ``advance()`` still run.
        """
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def pause(self) -> None:
        """Hold background work (see ``paused``); returns once none is running."""
        self._paused.set()
        for waiter in (*self._pollers, self._timekeeper):
            if waiter is not None:
                waiter.wait_idle()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def is_paused(self) -> bool:
        return self._paused.is_set()

    def queue_counts(self) -> dict[str, dict[str, int]]:
        return self._timers.counts() if self._timers else {}

    def schedules(self) -> list[dict[str, Any]]:
        return self._scheduler.describe() if self._scheduler else []

    def mail(self) -> list[SentMail]:
        """Every message SES accepted, oldest first (read and rendered by ``outbox``)."""
        from leadflow_local.moto_bridge import sent_mail

        return sent_mail(ACCOUNT, self.region)

    def clear_mail(self) -> int:
        from leadflow_local.moto_bridge import clear_sent_mail

        return clear_sent_mail(ACCOUNT, self.region)

    def demo_page(self, path: str = "/") -> str:
        """Drawn from the active bundle as the admin API returns it, so ``leadflow apply`` shows up."""
        import json

        from leadflow_local.demo_page import render_page

        bundle = None
        response = self.request(
            "GET", "/v1/admin/definitions", headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        if response.status == 200:
            try:
                bundle = json.loads(response.body).get("bundle")
            except (ValueError, AttributeError):
                bundle = None
        return render_page(path, bundle if isinstance(bundle, dict) else None, self.url)


def _iso_date(value: object) -> str:
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _release_active() -> None:
    global _active
    with _active_lock:
        _active = None
