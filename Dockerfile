# techmatch application image (api, worker and beat run from it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    TECHMATCH_DATA_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY core ./core
COPY api ./api
COPY web ./web
COPY indexes ./indexes
COPY matcher ./matcher
COPY crawler ./crawler
RUN pip install -c requirements.lock . && useradd -m -u 1000 techmatch && mkdir -p /data \
    && chown techmatch /data
USER techmatch
VOLUME ["/data"]
EXPOSE 8000
CMD ["techmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
