#!/usr/bin/env bash
# Installs the Debian packages the platform needs, only when they are missing: a Chinese font
# (pages, e-licence PDFs, the pre-check's sample documents), OpenSSL to verify signatures and
# Mosquitto with its clients (the MQTT broker of the sensors) and PostgreSQL's client tools
# (backups); for the tests (`scripts/system-deps.sh test`, what
# `make test` runs) also Chromium's headless shell and Java 17 (Spark, the batch engine the rules are tested on).
set -euo pipefail

missing=()
if [ "${1:-test}" = "test" ]; then
  command -v chromium-headless-shell >/dev/null 2>&1 || missing+=(chromium-headless-shell)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
fi
fc-list 2>/dev/null | grep -qi "wenquanyi zen hei" || missing+=(fonts-wqy-zenhei fontconfig)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# `shuhui backup` runs PostgreSQL's pg_dump and pg_restore (Debian's pg_dump may be a wrapper
# with no client behind it: only running it tells).
pg_dump --version >/dev/null 2>&1 || missing+=(postgresql-client)
# The MQTT broker sensors publish to (shuhui.monitor.telemetry): the tests start a private one,
# the demo one under its data dir when nothing listens at SHUHUI_MQTT_URL.
{ command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
