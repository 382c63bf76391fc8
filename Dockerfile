# Augur's image: `augur operator run` (default) or `augur extender run`.
#
#   docker build --build-arg BASE=python:3.11-slim-bookworm@sha256:<digest> -t augur:0.1.0 .
#   buildah bud --layers --build-arg BASE=python:3.11-slim-bookworm@sha256:<digest> -t augur:0.1.0 .
#
# Pin BASE by digest in your build. hack/image.sh builds and smoke-tests this file with buildah on a Debian
# base it bootstraps itself (this project's machines reach no container registry), and passes a wheelhouse
# it keeps between builds: `--build-context wheels=DIR` (buildah, docker buildx) replaces the empty `wheels`
# stage below, and pip then installs from DIR alone (--no-index). Without it, pip downloads from PyPI.
#
# Stages: `deps` installs the dependencies named in pyproject.toml, at the versions hack/constraints.txt
# pins, into a virtual environment (a layer that build caches keep until either file's list changes), `build` installs Augur itself into a prefix of its own, and
# the final stage is `deps` plus that small layer. pip runs from a tool environment in a tmpfs
# (`pip --python`), so the image has no pip or setuptools. (A tmpfs over /tmp would take /tmp out of the
# image with buildah 1.28, hence /opt/pip.) The image runs as UID/GID 65532 and works with a
# read-only root filesystem (no bytecode is written; mount an emptyDir at /tmp).
ARG BASE=python:3.11-slim-bookworm

FROM scratch AS wheels

# The dependency list alone, so that the `deps` layer below survives edits of pyproject.toml that leave it be.
FROM ${BASE} AS requirements
COPY pyproject.toml /src/
RUN python3 -c 'import tomllib; print(*tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
      >/requirements.txt

FROM ${BASE} AS deps
ARG PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=requirements /requirements.txt /opt/augur/requirements.txt
# The exact versions the test suite passed with (hack/pin-deps.sh writes the file; hack/setup.sh uses it too).
COPY hack/constraints.txt /opt/augur/constraints.txt
# The test suites of the scientific libraries (about 100 MB) are not needed at run time; the smoke test
# (hack/image.sh) imports both services afterwards.
RUN --mount=type=bind,from=wheels,target=/wheels --mount=type=tmpfs,target=/opt/pip \
    if [ -n "$(find /wheels -name '*.whl' -print -quit)" ]; then set -- --no-index --find-links /wheels; fi \
 && python3 -m venv /opt/pip \
 && python3 -m venv --without-pip /opt/augur \
 && /opt/pip/bin/pip --python /opt/augur/bin/python3 install "$@" --requirement /opt/augur/requirements.txt \
      --constraint /opt/augur/constraints.txt \
 && rm -rf /opt/augur/lib/python3*/site-packages/scipy/*/tests \
           /opt/augur/lib/python3*/site-packages/pandas/tests \
           /opt/augur/lib/python3*/site-packages/statsmodels/*/tests

FROM deps AS build
ARG PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md /src/
COPY operator /src/operator
COPY scheduler_extender /src/scheduler_extender
# Augur alone (its dependencies are in /opt/augur already), into a prefix the final stage copies.
RUN --mount=type=bind,from=wheels,target=/wheels --mount=type=tmpfs,target=/opt/pip \
    if [ -n "$(find /wheels -name '*.whl' -print -quit)" ]; then set -- --no-index --find-links /wheels; fi \
 && python3 -m venv /opt/pip \
 && /opt/pip/bin/pip --python /opt/augur/bin/python3 install "$@" --no-deps --prefix /opt/app /src

FROM deps
LABEL org.opencontainers.image.title="augur" \
      org.opencontainers.image.description="Predictive scaling and network-aware placement for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/app /opt/augur
ENV PATH=/opt/augur/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1
USER 65532:65532
EXPOSE 8080 8081 8888
ENTRYPOINT ["/opt/augur/bin/augur"]
CMD ["operator", "run"]
