# zenhire-mock as a container: the mock on 0.0.0.0:8080 with its embedded defaults.
#   docker build -t zenhire-mock .
#   docker run --rm -p 8080:8080 zenhire-mock
#   docker run --rm -p 8080:8080 -v "$PWD/my-scenarios:/scenarios:ro" \
#       -e ZENHIRE_MOCK_SCENARIOS=/scenarios zenhire-mock
#   docker run --rm -p 9000:9000 -e ZENHIRE_MOCK_PORT=9000 zenhire-mock      # HEALTHCHECK follows the port
# Several replicas as one platform share a Redis (ZENHIRE_MOCK_STORE=redis://HOST:PORT/DB,
# ZENHIRE_MOCK_WORKERS=N): docs/compose.yaml runs two of them and Redis; docs/shared-state.md.
# A regular (non-editable) install pinned by constraints.txt; the build folder is removed after it.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ZENHIRE_MOCK_HOST=0.0.0.0 \
    ZENHIRE_MOCK_PORT=8080

# jemalloc gives freed memory back, so a long-running sandbox stays small (README, Performance).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2 \
    && rm -rf /var/lib/apt/lists/*
ENV ZENHIRE_MOCK_ALLOCATOR=jemalloc

RUN useradd --create-home --uid 10001 zenhire
WORKDIR /src
COPY pyproject.toml README.md openapi.yaml constraints.txt ./
COPY mockserver ./mockserver
COPY contract_tests ./contract_tests
COPY scenarios ./scenarios
RUN pip install --no-cache-dir -c constraints.txt . \
    && rm -rf /src/* \
    && mkdir -p /scenarios /state \
    && chown 10001 /state

WORKDIR /state
USER 10001
EXPOSE 8080
VOLUME ["/scenarios", "/state"]
# The mock's own liveness (GET /__mock/live on $ZENHIRE_MOCK_PORT), not the simulated
# /api/v1/health: a simulated outage must not get the container restarted.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["zenhire-mock", "probe"]
CMD ["zenhire-mock", "serve"]
