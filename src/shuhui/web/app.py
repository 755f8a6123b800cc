"""The app factory: one FastAPI app per settings object, with every domain's router mounted."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from importlib.resources import files
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

import shuhui
from shuhui.approval import admin_pages as approval_admin_pages
from shuhui.approval import case_routes as approval_case_routes
from shuhui.approval import desk_workbench as approval_desk_workbench
from shuhui.approval import items as approval_items
from shuhui.approval import officer_pages as approval_officer_pages
from shuhui.approval import pages as approval_pages
from shuhui.approval import routes as approval_routes
from shuhui.approval import workbench as approval_workbench
from shuhui.approval.lookups import lookups_for
from shuhui.assets import pages as asset_pages
from shuhui.assets import routes as asset_routes
from shuhui.assets import service as asset_service
from shuhui.assets import workbench as asset_workbench
from shuhui.catalog import publishing
from shuhui.catalog import routes as catalog_routes
from shuhui.catalog import service as catalog_service
from shuhui.catalog.ckan import routes as ckan_routes
from shuhui.catalog.dcat import routes as dcat_routes
from shuhui.catalog.search import IndexCache
from shuhui.channel import city as channel_city
from shuhui.channel import gateway as channel_gateway
from shuhui.channel import keys as channel_keys
from shuhui.channel import pages as channel_pages
from shuhui.channel import review_pages as channel_review_pages
from shuhui.channel import routes as channel_routes
from shuhui.channel import workbench as channel_workbench
from shuhui.channel import writes as channel_writes
from shuhui.channel.engine import Engine
from shuhui.core import display, i18n
from shuhui.core.clock import format_local
from shuhui.core.db import checkpoint_in_background, make_engine, make_session_factory
from shuhui.core.http import csrf_protect
from shuhui.core.logging import configure_logging
from shuhui.core.money import shown_unit
from shuhui.core.settings import Settings, get_settings
from shuhui.datacore.store import DataCore
from shuhui.enterprise import assessment as enterprise_assessment
from shuhui.enterprise import assessment_routes as enterprise_assessment_routes
from shuhui.enterprise import console_routes as enterprise_console_routes
from shuhui.enterprise import custody_routes as enterprise_custody_routes
from shuhui.enterprise import matching as enterprise_matching
from shuhui.enterprise import monthly as enterprise_monthly
from shuhui.enterprise import pages as enterprise_pages
from shuhui.enterprise import profile as enterprise_profile
from shuhui.enterprise import routes as enterprise_routes
from shuhui.enterprise import workbench as enterprise_workbench
from shuhui.hrss import assessment_routes as hrss_assessment_routes
from shuhui.hrss import bundle_cases as hrss_bundle_cases
from shuhui.hrss import bundle_pages as hrss_bundle_pages
from shuhui.hrss import bundle_routes as hrss_bundle_routes
from shuhui.hrss import feedback as hrss_feedback
from shuhui.hrss import help_routes as hrss_help_routes
from shuhui.hrss import link_pages as hrss_link_pages
from shuhui.hrss import link_routes as hrss_link_routes
from shuhui.hrss import pages as hrss_pages
from shuhui.hrss import records as hrss_records
from shuhui.hrss import routes as hrss_routes
from shuhui.hrss import workbench as hrss_workbench
from shuhui.insight import pages as insight_pages
from shuhui.insight import routes as insight_routes
from shuhui.insight import tasks as insight_tasks
from shuhui.jobs import pages as jobs_pages
from shuhui.jobs import routes as jobs_routes
from shuhui.jobs import workbench as jobs_workbench
from shuhui.jobs.queue import Jobs
from shuhui.monitor.alarms import engine as monitor_alarm_engine
from shuhui.monitor.alarms import pages as monitor_alarm_pages
from shuhui.monitor.alarms import routes as monitor_alarm_routes
from shuhui.monitor.alarms import workbench as monitor_alarm_workbench
from shuhui.monitor.registry import ngsi_routes as registry_ngsi_routes
from shuhui.monitor.registry import pages as registry_pages
from shuhui.monitor.registry import routes as registry_routes
from shuhui.monitor.telemetry import pages as telemetry_pages
from shuhui.monitor.telemetry import routes as telemetry_routes
from shuhui.monitor.wall import pages as wall_pages
from shuhui.monitor.wall import routes as wall_routes
from shuhui.programs import pages as programs_pages
from shuhui.programs import routes as programs_routes
from shuhui.programs import service as programs_service
from shuhui.programs import workbench as programs_workbench
from shuhui.programs.certification import pages as certification_pages
from shuhui.programs.certification import routes as certification_routes
from shuhui.programs.certification import workbench as certification_workbench
from shuhui.programs.distress import pages as distress_pages
from shuhui.programs.distress import routes as distress_routes
from shuhui.programs.distress import workbench as distress_workbench
from shuhui.programs.fundrisk import pages as fundrisk_pages
from shuhui.programs.fundrisk import routes as fundrisk_routes
from shuhui.programs.fundrisk import workbench as fundrisk_workbench
from shuhui.trust.authorisations import context as authorisation_context
from shuhui.trust.authorisations import pages as authorisation_pages
from shuhui.trust.authorisations import routes as authorisation_routes
from shuhui.trust.authorisations import workbench as authorisation_workbench
from shuhui.trust.identity import pages as identity_pages
from shuhui.trust.identity import routes as identity_routes
from shuhui.trust.identity import service as identity_service
from shuhui.trust.identity import workbench as identity_workbench
from shuhui.trust.identity.deps import load_user, viewer_with_role
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import pages as ledger_pages
from shuhui.trust.ledger import publish as ledger_publish
from shuhui.trust.ledger import routes as ledger_routes
from shuhui.trust.ledger.keys import platform_key
from shuhui.trust.ledger.service import TreeCache
from shuhui.trust.seals import pages as seal_pages
from shuhui.trust.seals import routes as seal_routes
from shuhui.web import jobs as web_jobs
from shuhui.web import messages as web_messages
from shuhui.web import problems
from shuhui.web import routes as web_routes
from shuhui.web.limits import BodyLimitMiddleware, body_rules
from shuhui.web.middleware import RequestContextMiddleware
from shuhui.web.nav import MODULES
from shuhui.web.purposes import ChannelPurposes
from shuhui.web.registry import DataCoreEnterprises
from shuhui.web.routing import quick_reject
from shuhui.web.workbench import TodoProvider

# Each domain brings its own templates; the web package brings the layout they extend.
TEMPLATE_PACKAGES = (
    "shuhui.web",
    "shuhui.trust.identity",
    "shuhui.trust.ledger",
    "shuhui.trust.seals",
    "shuhui.trust.authorisations",
    "shuhui.catalog",
    "shuhui.assets",
    "shuhui.channel",
    "shuhui.programs",
    "shuhui.programs.certification",
    "shuhui.programs.fundrisk",
    "shuhui.programs.distress",
    "shuhui.hrss",
    "shuhui.enterprise",
    "shuhui.monitor.registry",
    "shuhui.approval",
    "shuhui.monitor.telemetry",
    "shuhui.monitor",
    "shuhui.monitor.alarms",
    "shuhui.monitor.wall",
    "shuhui.jobs",
    "shuhui.insight",
)


@cache
def _template_env(mounted: frozenset[str]) -> Environment:
    """One environment per process and set of mounted paths: its compiled templates are kept
    (auto_reload is off), so an app made again — each test makes one — compiles none anew."""
    loaders = [FileSystemLoader(str(files(pkg) / "templates")) for pkg in TEMPLATE_PACKAGES]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(),
        auto_reload=False,
        cache_size=400,  # more than the platform has (about 80), so none is compiled twice
        # A message made as core.i18n.Text shows in the page's language.
        finalize=i18n.shown,
    )
    env.globals.update(
        version=shuhui.__version__,
        modules=[(m, m.path in mounted) for m in MODULES],
    )
    # The header's unread-message badge, counted only when a page with a user renders.
    env.globals["unread_messages"] = web_messages.unread_for_layout
    env.filters["local_time"] = format_local
    env.filters["fromjson"] = json.loads
    env.filters["yuan"] = display.yuan
    env.filters["masked_id"] = display.mask_citizen_id
    env.filters["with_unit"] = display.with_unit
    env.filters["yuan_text"] = display.yuan_text
    env.filters["local_date"] = display.local_date
    env.filters["month_text"] = display.month_text
    env.filters["shown_unit"] = shown_unit
    return env


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.ensure_data_dir()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    engine = make_engine(settings.sqlalchemy_url)

    app = FastAPI(
        title="数慧 Shuhui",
        version=shuhui.__version__,
        description="数字城市政府的公共数据底座与公共服务平台 · "
        "One governed data core for a digital city government, and its public services.",
        docs_url=None,
        redoc_url=None,
        # The ledger's checkpointer: signs and publishes checkpoints while the app runs.
        lifespan=ledger_publish.lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.signing_key = settings.signing_key()
    app.state.datacore = DataCore.from_settings(settings)
    app.state.ledger_key = platform_key(settings.data_dir)
    app.state.ledger_tree = TreeCache()
    app.state.enterprise_registry = DataCoreEnterprises(app.state.datacore)
    # The enterprise file's monthly headcounts, read by key like a table of the data core.
    enterprise_monthly.register(lookups_for(app.state.datacore))
    authorisation_context.check_content(settings.city_content)
    # The service items' approval catalogue, checked whole (items, forms, certificate types).
    app.state.approval_catalogue = approval_items.load_catalogue(settings.city_content)
    app.state.city_catalog = catalog_service.city_catalog(settings.city_content)
    app.state.asset_registrar = asset_service.city_registrar(settings.city_content)
    app.state.catalog_index = IndexCache()
    app.state.city_channel = channel_city.city_channel(settings.city_content)
    app.state.approved_purposes = ChannelPurposes(app.state.city_channel)
    app.state.channel_engine = Engine(app.state.datacore)
    app.state.channel_keys = channel_keys.KeyCache()
    app.state.channel_writes = channel_writes.for_database(
        settings.sqlalchemy_url, settings.data_dir
    )
    app.state.channel_deciders = ThreadPoolExecutor(16, thread_name_prefix="channel-decide")
    app.state.channel_local_db = settings.sqlalchemy_url.startswith("sqlite")
    app.state.channel_writer = channel_writes.GroupWriter(
        app.state.session_factory, app.state.channel_writes, channel_gateway.record_calls
    )
    app.state.policy_library = programs_service.Library(settings, app.state.datacore)
    # Background jobs (a campaign over the city, a certification cycle): the queue, and the
    # kinds this platform runs; consumed by ``create_served_app`` or ``shuhui jobs worker``.
    app.state.jobs = Jobs(
        settings,
        app.state.session_factory,
        web_jobs.kinds(
            settings, app.state.policy_library, app.state.datacore, app.state.city_catalog
        ),
    )
    # What each domain puts on a person's workbench, asked in this order (``web.workbench``).
    todo_providers: tuple[TodoProvider, ...] = (
        programs_workbench.todos,
        partial(certification_workbench.todos, library=app.state.policy_library),
        fundrisk_workbench.todos,
        partial(distress_workbench.todos, content=settings.city_content),
        partial(hrss_workbench.todos, content=settings.city_content),
        partial(
            enterprise_workbench.todos,
            content=settings.city_content,
            city=app.state.city_channel,
        ),
        authorisation_workbench.todos,
        asset_workbench.todos,
        partial(channel_workbench.todos, city=app.state.city_channel),
        identity_workbench.todos,
        approval_workbench.todos,
        approval_desk_workbench.todos,
        partial(monitor_alarm_workbench.todos, settings=settings),
        jobs_workbench.todos,
    )
    app.state.todo_providers = todo_providers
    # Readings sent over HTTP go through the same evaluators as the MQTT consumer's.
    app.state.monitor_evaluators = (monitor_alarm_engine.evaluate,)

    # Liveness must not depend on the database, so health routes skip the per-request user.
    app.include_router(web_routes.health)
    # The gateway authenticates by API key, not by session; each call is metered and audited.
    # Matched early: routes are tried in order, and its callers send the most requests.
    gateway = channel_routes.gateway_router(app.state.city_channel)
    app.include_router(gateway, dependencies=[Depends(csrf_protect)])
    # The enterprise direct link's batches come from the enterprises' own systems: a key and a
    # signature, no session (hrss.link).
    app.include_router(hrss_link_routes.api, dependencies=[Depends(csrf_protect)])
    # The video help's signalling socket checks its origin and reads the session itself.
    app.include_router(hrss_help_routes.socket)
    # The CKAN API is public and read-only: who is asking changes nothing in its answers, so its
    # hot path does not look the session up (and it is matched before the many page routes).
    app.include_router(ckan_routes.api, dependencies=[Depends(csrf_protect)])
    guarded = [Depends(csrf_protect), Depends(load_user)]
    routers = (
        dcat_routes.pages,
        web_routes.pages,
        web_routes.api,
        web_messages.pages,
        web_messages.api,
        identity_pages.pages,
        identity_routes.api,
        ledger_routes.api,
        ledger_pages.pages,
        seal_routes.api,
        seal_pages.pages,
        authorisation_routes.api,
        authorisation_pages.pages,
        asset_routes.api,
        asset_pages.pages,
        channel_routes.api,
        channel_pages.pages,
        channel_review_pages.pages,
        programs_routes.api,
        programs_pages.pages,
        certification_routes.api,
        certification_pages.pages,
        fundrisk_routes.api,
        fundrisk_pages.pages,
        distress_routes.api,
        distress_pages.pages,
        hrss_routes.api,
        hrss_pages.pages,
        hrss_bundle_routes.api,
        hrss_bundle_pages.pages,
        hrss_link_routes.console,
        hrss_help_routes.api,
        hrss_help_routes.pages,
        hrss_assessment_routes.api,
        hrss_assessment_routes.pages,
        hrss_link_pages.pages,
        enterprise_routes.api,
        enterprise_pages.pages,
        enterprise_console_routes.api,
        enterprise_console_routes.pages,
        enterprise_assessment_routes.api,
        enterprise_assessment_routes.pages,
        enterprise_custody_routes.api,
        enterprise_custody_routes.pages,
        registry_routes.api,
        registry_ngsi_routes.api,
        registry_pages.pages,
        approval_routes.api,
        approval_case_routes.api,
        approval_officer_pages.desk_pages,
        approval_admin_pages.admin_pages,
        approval_pages.pages,
        telemetry_routes.api,
        telemetry_pages.pages,
        monitor_alarm_routes.api,
        monitor_alarm_pages.pages,
        wall_routes.api,
        wall_pages.pages,
        jobs_routes.api,
        jobs_pages.pages,
        insight_routes.api,
        insight_pages.pages,
        catalog_routes.api,
        # Last: /catalog/datasets/{name} would otherwise shadow more specific catalog paths.
        catalog_routes.pages,
    )
    for router in routers:
        app.include_router(router, dependencies=guarded)
    # What follows a case's end in the services above approval (a bundle's one notice, the
    # result pushed to the applicant), in the transaction that ends it.
    hrss_bundle_cases.listen()
    hrss_feedback.listen()
    # The ledger sits below identity (which records into it), so the app says who audits it.
    app.state.ledger_guards = {
        "auditor": viewer_with_role(Role.admin, Role.data_operator),
        "admin": viewer_with_role(Role.admin),
    }
    app.state.ledger_actor_names = identity_service.actor_names

    static = Path(str(files("shuhui.web") / "static"))
    app.mount("/static/docs", StaticFiles(directory=web_routes.DOCS_STATIC), name="docs-static")
    app.mount("/static", StaticFiles(directory=static), name="static")

    problems.install(app)
    # Inside the request context (added before it), outside the routes: bodies are bounded
    # before anything reads them, by the size each route declares (``web.limits``).
    app.add_middleware(
        BodyLimitMiddleware,
        default_max=settings.max_body_bytes,
        rules=body_rules((*routers, ckan_routes.api, gateway, hrss_link_routes.api)),
    )
    app.add_middleware(
        RequestContextMiddleware,
        default_locale=settings.default_locale,
        cookie_secure=settings.cookie_secure,
    )
    # Included routers are not flattened into app.routes, so the paths come from the routers.
    mounted = {
        getattr(r, "path", "")
        for router in (*routers, ckan_routes.api, gateway, hrss_link_routes.api)
        for r in router.routes
    }
    app.state.templates = _template_env(frozenset(mounted))
    quick_reject(app)
    return app


def create_served_app() -> FastAPI:
    """The app as ``shuhui serve`` runs it, in each worker process: like :func:`create_app`,
    and the catalog's search index and the data products' tables start being prepared at once,
    so the first search or call finds them ready. First, what a killed load left is recovered:
    every served version gets its ledger entry, the catalog its versions (catalog.publishing)."""
    app = create_app()
    publishing.recover(app.state.session_factory, app.state.datacore, app.state.city_catalog)
    checkpoint_in_background(app.state.engine)
    # The one-box default: background jobs run in threads of each server process, from the
    # SQLite queue in the data directory; with Redis, `shuhui jobs worker` processes run them.
    if not app.state.settings.redis_url:
        app.state.job_consumer = app.state.jobs.serve()
    app.state.catalog_index.build_later(app.state.session_factory, app.state.city_catalog.synonyms)
    # Last month's analysis reports, once each, whichever process gets there first.
    insight_tasks.schedule_in_background(app.state.settings, app.state.session_factory)
    channel_city.prepare_products_later(app.state.channel_engine, app.state.city_channel)
    approval_routes.prepare_later(
        app.state.datacore,
        app.state.settings.city_content,
        also=(
            *hrss_records.KEYED,
            *enterprise_profile.KEYED,
            *enterprise_assessment.KEYED,
            *enterprise_matching.register_policies(
                app.state.policy_library, lookups_for(app.state.datacore)
            ),
        ),
    )
    return app
