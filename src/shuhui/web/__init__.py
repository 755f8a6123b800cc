"""The web application: app factory, base layout, static assets, and each domain's router.

The layout (``templates/base.html``, ``static/css/shuhui.css``, ``static/js/shuhui.js``) works at
phone width: below 900 px the modules and account links fold behind a menu button (a plain list
without scripts); every data table (``table.grid``) sits in a ``.table-wrap`` that scrolls
sideways, with headings, names (``td.name``), codes and figures kept on one line. The
elder-friendly mode (适老化) enlarges the root type size and darkens text and lines; the header
switches it with ``?elder=on|off`` and the middleware keeps the choice in a cookie, as it does the
language.
"""
