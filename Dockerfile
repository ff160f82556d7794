# Waymark in one image: the PWA built with Node, served by the Python app as a non-root user.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WAYMARK_HOST=0.0.0.0 \
    WAYMARK_PORT=8000 \
    WAYMARK_DATA_DIR=/data
WORKDIR /app
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/app.lock
COPY pyproject.toml README.md ./
COPY app/ app/
RUN pip install --no-cache-dir --no-deps . \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin waymark \
 && mkdir -p /data && chown waymark:waymark /data && chmod 700 /data
COPY --from=frontend /src/frontend/dist /app/frontend/dist
ENV WAYMARK_STATIC_DIR=/app/frontend/dist
USER waymark
VOLUME ["/data"]
EXPOSE 8000
# Migrations first, then serve. Production needs WAYMARK_ENVIRONMENT=production and the keys:
# see docs/deploying.md.
CMD ["sh", "-c", "waymark migrate && exec waymark serve"]
