"""The web application: app factory, base layout, static assets, and each domain's router."""
