# The production image of Shuhui (数慧): `shuhui serve` on 0.0.0.0:8000 as a non-root user, with
# the Debian packages the runtime needs. docs/deploy.md runs it (compose.yaml): the schema is
# migrated once by `shuhui db upgrade` before the app nodes start, which refuse an old schema.
#
#   docker build -t shuhui .
#   docker run --rm shuhui shuhui --help
#
# Bookworm pinned: its postgresql-client is 15, the PostgreSQL of compose.yaml (pg_dump must be
# at least the server's version; `shuhui backup create` runs it).
#
# WITH_SPARK=true (the default) adds PySpark (the `spark` extra) and Java 17, for
# SHUHUI_ENGINE=spark against compose.yaml's Spark master; `--build-arg WITH_SPARK=false` leaves
# them out (about 700 MB less), and the batch engine is then DuckDB only.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: wheels need a C compiler (gmalglib, the SM2/SM3 library, is built from source) ----
FROM ${PYTHON_IMAGE} AS build
ARG WITH_SPARK=true
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY src ./src
# The exact versions the tests passed with (constraints.txt), into a venv the runtime copies.
RUN python -m venv /opt/shuhui \
 && /opt/shuhui/bin/pip install --no-cache-dir --quiet --upgrade pip \
 && extras=$([ "$WITH_SPARK" = true ] && echo "[spark]" || true) \
 && /opt/shuhui/bin/pip install --no-cache-dir --quiet --constraint constraints.txt ".$extras" \
 && /opt/shuhui/bin/shuhui --help >/dev/null

# --- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG WITH_SPARK=true
# scripts/system-deps.sh runtime: the Chinese font (pages, e-licence PDFs, the pre-check's
# sample documents), OpenSSL, Mosquitto and its clients (`shuhui demo --serve` starts a broker
# of its own when none listens); the PostgreSQL client for `shuhui backup`; Java 17 for PySpark
# (its man-page folder first: the JRE's package links into it, and slim images have none).
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      fonts-wqy-zenhei fontconfig openssl mosquitto mosquitto-clients postgresql-client \
      $([ "$WITH_SPARK" = true ] && echo openjdk-17-jre-headless) \
 && rm -rf /var/lib/apt/lists/* \
 && fc-cache -f >/dev/null \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/shuhui \
      --shell /usr/sbin/nologin shuhui \
 && install -d -o shuhui -g shuhui -m 0755 /var/lib/shuhui
COPY --from=build /opt/shuhui /opt/shuhui
# What the city configures (service items, rules, products): outside the installed package.
COPY content /app/content

ENV PATH=/opt/shuhui/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SHUHUI_HOST=0.0.0.0 \
    SHUHUI_PORT=8000 \
    SHUHUI_DATA_DIR=/var/lib/shuhui \
    SHUHUI_CONTENT_DIR=/app/content

# SHUHUI_DATA_DIR: a named volume mounted there first takes the folder's owner (shuhui).
WORKDIR /home/shuhui
USER shuhui
EXPOSE 8000
# Liveness: the process answers (/healthz). /readyz also checks the database, the schema and
# that the data directory is writable.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SHUHUI_PORT', '8000'), timeout=4)"]
CMD ["shuhui", "serve"]
