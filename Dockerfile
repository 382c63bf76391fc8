# Augur operator / extender image (not built in CI: the project's machines have no container engine).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY scheduler_extender ./scheduler_extender
RUN pip install --no-cache-dir . && useradd --uid 65532 --no-create-home augur
USER 65532
ENTRYPOINT ["augur"]
