# The API and the worker: one image, two commands (docker-compose.yml).
#   docker build -t disclosure-workflow .
#   docker run --env-file .env disclosure-workflow                 # the worker (default command)
#   docker run --env-file .env -p 8000:8000 disclosure-workflow \
#       uvicorn --factory api.main:create_app --host 0.0.0.0 --port 8000
# Configuration only through DISCLOSURE_* environment variables (core/config.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DISCLOSURE_DATA_DIR=/app/data

WORKDIR /app

# A CJK TrueType font: the worker renders the letters as PDFs with Chinese text (letters/documents.py).
# tesseract with its Simplified Chinese model: the worker OCRs scanned files before they are released (release/).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei tesseract-ocr tesseract-ocr-chi-sim \
    && rm -rf /var/lib/apt/lists/*

# The sources (.dockerignore leaves out tests, local state and secrets), then the package and its
# dependencies; psycopg[binary] brings its own libpq, so no compiler or system library is needed.
# PYTHONDONTWRITEBYTECODE stops only the writing of .pyc files at run time, so compile them here: the
# workflow sandbox imports workflows/*.py afresh for every workflow instance, and without a .pyc each
# import compiles the source again (about a quarter of the worker's CPU per new application).
COPY . .
# The xray extra: the bad-redaction check every released copy must pass (release/verify.py; it brings PyMuPDF,
# AGPL-3.0, run only as a child process: README "Released files").
RUN pip install '.[xray]'
RUN python -m compileall -q -j 0 /app \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home disclosure \
    && mkdir -p /app/data && chown disclosure:disclosure /app/data

USER disclosure

EXPOSE 8000
CMD ["python", "worker.py"]
