# Nexo's image: the API (`nexo serve`) and the workers (`nexo worker`) from one build.
# Dependencies come from requirements.lock only (exact versions, hashes checked).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/nexo
COPY requirements.lock /app/
RUN /opt/nexo/bin/pip install --require-hashes -r /app/requirements.lock
COPY pyproject.toml README.md alembic.ini /app/
COPY alembic /app/alembic
COPY adapters /app/adapters
COPY api /app/api
COPY domain /app/domain
COPY workers /app/workers
# Editable: `nexo migrate` reads alembic.ini and alembic/ beside the code, in /app.
RUN /opt/nexo/bin/pip install --no-deps -e /app && /opt/nexo/bin/pip check

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin nexo
COPY --from=build /opt/nexo /opt/nexo
COPY --from=build --chown=root:root /app /app
ENV PATH=/opt/nexo/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEXO_ENVIRONMENT=prod \
    NEXO_HOST=0.0.0.0 \
    NEXO_PORT=8000
WORKDIR /app
USER nexo
EXPOSE 8000
# SIGTERM: the API closes its WebSockets with 1001 and a reason, then stops; a worker stops
# taking jobs and finishes the running ones (arq returns what it cannot finish to the queue).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['NEXO_PORT']}/healthz\", timeout=2)"]
CMD ["nexo", "serve"]
