# One image for every Storecast process: app nodes, the worker and the migration job.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/storecast
COPY pyproject.toml README.md ./
COPY server ./server
COPY live ./live
COPY orders ./orders
COPY attribution ./attribution
COPY static ./static
RUN pip install -e . && useradd --system --home /srv/storecast storecast
USER storecast

EXPOSE 8000 8001
CMD ["storecast", "app"]
