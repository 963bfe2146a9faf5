# OrderBridge's container image: the released wheel on a slim Python, run as a non-root user.
#
#   make dist                      # builds dist/orderbridge-<version>-py3-none-any.whl
#   docker build -t orderbridge .
#
# One image for every role: `run --role web` (default), `run --role worker`, `db upgrade`.
# docker-compose.yml runs PostgreSQL, one migration, a web process, two workers and a TLS
# proxy from it; docs/deploy.md explains the settings. Pin the base by digest in production
# (python:3.11-slim-bookworm@sha256:...) to rebuild bit-for-bit.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ORDERBRIDGE_HOST=0.0.0.0 \
    ORDERBRIDGE_PORT=8000 \
    ORDERBRIDGE_LOG_FORMAT=json \
    ORDERBRIDGE_CONFIG=

# The runtime lock (hash-checked) first, then the wheel without dependencies: the image
# holds exactly the pinned runtime, no test tools.
COPY requirements.lock /tmp/install/requirements.lock
COPY dist/ /tmp/install/dist/
RUN pip install --no-cache-dir --require-hashes -r /tmp/install/requirements.lock \
 && pip install --no-cache-dir --no-deps /tmp/install/dist/orderbridge-*.whl \
 && rm -rf /tmp/install \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/orderbridge --create-home orderbridge

USER 10001:10001
WORKDIR /var/lib/orderbridge
EXPOSE 8000

# /healthz of the web app (ORDERBRIDGE_PORT), or of a worker's metrics port: set
# ORDERBRIDGE_HEALTHCHECK_PORT to ORDERBRIDGE_METRICS_PORT for workers. No curl in slim images.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('ORDERBRIDGE_HEALTHCHECK_PORT') or os.environ.get('ORDERBRIDGE_PORT', '8000'); urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

ENTRYPOINT ["orderbridge"]
CMD ["run", "--role", "web"]
