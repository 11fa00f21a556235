# One recipe for every riposte function:
#   docker build --build-arg FUNCTION=delete_configmap -t <registry>/delete-configmap:<tag> .
# FUNCTION is the folder under functions/ (underscores); the deployed name is hyphenated.
# The same image runs on Knative (which sets PORT) and OpenFaaS (8080, probes GET
# /_/health and /_/ready, which every function answers 200).
#
# Run it with a read-only root filesystem: nothing here writes outside TMPDIR=/dev/shm
# (gunicorn's worker heartbeat files), and the bytecode is compiled at build time.
# tests/deploy/test_image.py runs this file's CMD, with this file's ENV, from a venv
# under a read-only root.
FROM python:3.11-slim

ARG FUNCTION
RUN test -n "${FUNCTION}" || { echo "build with --build-arg FUNCTION=<folder under functions/>" >&2; exit 1; }

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

COPY shared/ shared/
COPY functions/${FUNCTION}/ functions/${FUNCTION}/
RUN python -m compileall -q shared functions

# PYTHONPATH: functions-framework puts only the function's folder on sys.path; `import
# shared` needs the application root. TMPDIR: gunicorn refuses to start without a
# writable temp dir, and /dev/shm is a tmpfs in every container runtime.
# XDG_RUNTIME_DIR: gunicorn >= 25.1 opens a control socket there, else under
# $HOME/.gunicorn, which a read-only root turns into an error at every start. THREADS and
# WORKERS: functions-framework defaults to 4 threads per *host* CPU; 8 threads in one
# worker match the Knative Service's containerConcurrency (deploy/knative/services).
ENV FUNCTION=${FUNCTION} \
    PORT=8080 \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/dev/shm \
    XDG_RUNTIME_DIR=/dev/shm \
    WORKERS=1 \
    THREADS=8

# A numeric user, so the kubelet can enforce runAsNonRoot without a passwd lookup.
USER 65532:65532
EXPOSE 8080

# functions-framework's production server (gunicorn), one function per process.
CMD ["/bin/sh", "-c", "exec functions-framework --target handle --source functions/$FUNCTION/main.py --port $PORT"]
