# zenhire-mock as a container: the mock on 0.0.0.0:8080 with its embedded defaults.
#   docker build -t zenhire-mock .
#   docker run --rm -p 8080:8080 zenhire-mock
#   docker run --rm -p 8080:8080 -v "$PWD/my-scenarios:/scenarios:ro" \
#       -e ZENHIRE_MOCK_SCENARIOS=/scenarios zenhire-mock
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ZENHIRE_MOCK_HOST=0.0.0.0 \
    ZENHIRE_MOCK_PORT=8080

RUN useradd --create-home --uid 10001 zenhire
WORKDIR /app
COPY pyproject.toml README.md openapi.yaml ./
COPY mockserver ./mockserver
COPY contract_tests ./contract_tests
COPY scenarios ./scenarios
RUN pip install -e . && mkdir -p /scenarios /state && chown zenhire /state

USER zenhire
EXPOSE 8080
VOLUME ["/scenarios", "/state"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/api/v1/health', timeout=2).status == 200 else 1)"
CMD ["zenhire-mock", "serve"]
