"""What happens around every listener, registered once on the app: the request context,
built by Bolt middleware (every listener is handed `env`, who asked, where and how to
answer, see `handlers.context.Env`, and `request_log`, its log line), the one error
handler, and the log line written when the listener ends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.middleware import Middleware

from bot.i18n import use
from handlers.context import Env, Responder
from handlers.errors import reply_with_error
from handlers.languages import Languages
from handlers.requestlog import RequestLog, outcome_of

if TYPE_CHECKING:
    from handlers.context import Tenancy

log = logging.getLogger(__name__)


class RequestContext(Middleware):
    """Each request's log line and `env`. A class, not a function middleware: Bolt calls
    a function with keyword arguments it builds anew for every request (about a tenth of
    an ack's time)."""

    def __init__(self, tenancy: Tenancy, unconnected: Languages) -> None:
        """`unconnected`: the languages of people in workspaces not connected yet (OAuth
        mode: installing, the Home tab's Connect), learned by handlers.workspace."""
        self.tenancy, self.unconnected = tenancy, unconnected

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body, context = req.body, req.context
        request_log = RequestLog.of(body)
        context["request_log"] = request_log
        services = self.tenancy.services_for(context.team_id or "")
        if services is None:  # installed, not connected yet: handlers.workspace answers
            use(self.unconnected.known(context.user_id or "") or self.unconnected.fallback)
            return next()
        user_id = context.user_id or ""
        known = services.languages.known(user_id)  # never a call to Slack before the ack
        lang = known or services.languages.fallback
        context["env"] = Env(
            services=services,
            user_id=context.user_id or "",
            team_id=context.team_id or "",
            channel_id=context.channel_id or "",
            client=context.client,
            respond=Responder(context.response_url) if context.response_url else None,
            trigger_id=body.get("trigger_id", ""),
            log=request_log,
            lang=lang,
            lang_known=known is not None,
        )
        use(lang)  # this request's language: Bolt's listener threads run in a copy of it
        if known is None:  # learned after the ack, for the answer and the next requests
            services.languages.learn(context.client, user_id, services.work.submit)
        return next()


class LogLineWriter(ListenerCompletionHandler):
    """Writes a request's log line when its listener returns or raises (after the error
    handler, which sets the outcome), unless the listener handed work to the work pool."""

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        request_log = request.context.get("request_log")
        if isinstance(request_log, RequestLog) and not request_log.deferred:
            request_log.finish()


def register(app: App, tenancy: Tenancy, *, unconnected: Languages | None = None) -> None:
    """`unconnected`: the languages before a workspace is connected (OAuth mode)."""
    app.middleware(RequestContext(tenancy, unconnected or Languages("en")))
    # There is no decorator for Bolt's completion handler.
    app.listener_runner.listener_completion_handler = LogLineWriter()

    @app.error
    def handle_error(error: Exception, context: BoltContext) -> BoltResponse:
        """Every error a listener raises: a clear ephemeral reply, never a traceback."""
        env, request_log = context.get("env"), context.get("request_log")
        if isinstance(request_log, RequestLog):
            request_log.outcome = outcome_of(error)
        if isinstance(env, Env):
            reply_with_error(error, env)
        else:  # raised before the request context was built: nobody to tell
            log.error("error before the request context", exc_info=error)
        return BoltResponse(status=200, body="")
