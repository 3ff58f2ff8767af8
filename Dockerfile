# syntax=docker/dockerfile:1
# hems: one image for the web server, the Celery worker and Celery beat
# (bin/hems web | worker | beat | migrate), the same entry script as on a host.
# Needs Docker 23+ (BuildKit) or buildah 1.33+: the dependency step is a RUN heredoc.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python - <<'PY'
import tomllib, subprocess, sys
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
subprocess.check_call([sys.executable, "-m", "pip", "install", *deps])
PY
COPY MANIFEST.in ./
COPY platform ./platform
COPY drivers ./drivers
COPY examples/hems-appliances ./examples/hems-appliances
# hems with its built-in drivers, and the example third-party driver as a package of its own:
# real installs (not editable), with the templates and static files MANIFEST.in names.
RUN pip install --no-deps . ./examples/hems-appliances

FROM python:3.11-slim AS runtime
# Inside the container the server listens on every interface (a host's bin/hems: loopback);
# what reaches it is decided where the port is published (compose: 127.0.0.1 only).
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=false STATIC_ROOT=/app/staticfiles CELERY_BEAT_STATE=/tmp/celerybeat-schedule \
    HEMS_BIND=0.0.0.0:8000
RUN useradd --create-home --uid 10001 hems \
    && mkdir -p /var/lib/hems/mqtt && chown hems:hems /var/lib/hems/mqtt  # the broker's files (compose: a volume)
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Only the entry script and manage.py: the code is the installed packages in /opt/venv
# (no source tree here to shadow them on bin/hems's PYTHONPATH).
COPY --chown=hems:hems manage.py ./
COPY --chown=hems:hems bin ./bin
# The static files (admin, dashboard, GraphiQL), collected from the installed packages at
# build time and served by WhiteNoise. The settings refuse a weak SECRET_KEY even here: a
# random one, used for nothing else.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R hems:hems /app/staticfiles
USER hems
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["bin/hems"]
CMD ["web"]
