# Augur's image: `augur operator run` (default) or `augur extender run`.
#
#   buildah bud --build-arg BASE=python:3.11-slim-bookworm@sha256:<digest> -t augur:0.1.0 .
#
# Pin BASE by digest in your build; hack/image.sh builds and smoke-tests this file with buildah (vfs storage,
# chroot isolation) on a Debian base it bootstraps itself, since this project's machines reach no registry.
# Two stages: the build stage installs Augur into a virtual environment, the final stage gets only that
# environment. It runs as UID/GID 65532 without a shell dependency, and works with a read-only root
# filesystem (no bytecode is written; mount an emptyDir at /tmp).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/augur
COPY pyproject.toml README.md /src/
COPY operator /src/operator
COPY scheduler_extender /src/scheduler_extender
# pip and setuptools are not needed at run time, nor the test suites of the scientific libraries (about
# 100 MB); the smoke test (hack/image.sh) imports both services afterwards.
RUN /opt/augur/bin/pip install /src \
 && /opt/augur/bin/pip uninstall --yes pip setuptools \
 && rm -rf /opt/augur/lib/python3*/site-packages/scipy/*/tests \
           /opt/augur/lib/python3*/site-packages/pandas/tests \
           /opt/augur/lib/python3*/site-packages/statsmodels/*/tests

FROM ${BASE}
LABEL org.opencontainers.image.title="augur" \
      org.opencontainers.image.description="Predictive scaling and network-aware placement for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/augur /opt/augur
ENV PATH=/opt/augur/bin:/usr/local/bin:/usr/bin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1
USER 65532:65532
EXPOSE 8080 8081 8888
ENTRYPOINT ["/opt/augur/bin/augur"]
CMD ["operator", "run"]
