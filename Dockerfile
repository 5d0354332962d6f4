# Production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/opt/venv/bin:$PATH" \
    DATA_DIR=/var/lib/runbook

WORKDIR /app
# WeasyPrint (the emergency pack and report PDFs) draws text with Pango and these fonts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv==0.13.9"
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# Static files are collected at build time; the key here exists only for this step.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 10001 --home /var/lib/runbook runbook \
    && mkdir -p /var/lib/runbook && chown runbook /var/lib/runbook
# Never root: the app, worker and beat run as this unprivileged user.
USER 10001

EXPOSE 8000
CMD ["gunicorn", "runbook.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--preload", "--worker-class", "gthread", "--workers", "2", "--threads", "8"]
