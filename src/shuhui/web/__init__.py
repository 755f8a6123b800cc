"""The web application: app factory, base layout, static assets, and each domain's router.

The layout (``templates/base.html``, ``static/css/shuhui.css``, ``static/js/shuhui.js``) works at
phone width: below 900 px the modules and account links fold behind a menu button (a plain list
without scripts); every data table (``table.grid``) sits in a ``.table-wrap`` that scrolls
sideways, with headings, names (``td.name``), codes and figures kept on one line. The
elder-friendly mode (适老化) enlarges the root type size and darkens text and lines; the header
switches it with ``?elder=on|off`` and the middleware keeps the choice in a cookie, as it does the
language.

Once logged in, ``/`` is the person's workbench (工作台, ``workbench``): to-do cards that the
domains provide (each domain's ``workbench.todos(db, user)`` returns ``core.workbench.Todo``
counts; the app factory lists the providers in ``app.state.todo_providers`` as it lists the
routers), their latest messages and shortcuts for their roles; a visitor still sees the
introduction (``home.html``). The message centre (站内消息, ``messages``: ``/messages`` and
``/api/v1/messages``) shows the portal messages of programs' outbox to their recipient, and the
header carries the unread count (``unread_for_layout``, one indexed ``COUNT`` per page rendered,
with an ``aria-label`` such as "站内消息：3 条未读消息").

Two pure-ASGI middlewares run before the routes: ``middleware`` (request id, language,
elder-friendly display, CSRF seed, access log) and, inside it, ``limits``, which bounds every
request body while it is read (413 before parsing, per-route bounds declared with
``core.requestbody.accepts``) and checks JSON bodies for depth and bad strings.
"""
