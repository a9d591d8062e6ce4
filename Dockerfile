# The nightly container: `docker run ... aspider-xnat run --all` from cron or a systemd timer;
# or the service: `docker run --init ... aspider-xnat serve --host 0.0.0.0` (docs/deploy.md).
# Configuration comes from the environment (ASPIDER_*) and a mounted settings file; the SSH key
# and the XNAT credentials come from mounted secrets (see docs/deploy.md). Checked by hadolint
# (`make lint`); built and run by tests/container/image-smoke where a Docker daemon is.
# The runtime lock (requirements/runtime.txt, docs/development.md), every package checked
# against its hash; then aspider itself, built by the locked hatchling, with nothing resolved.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements/runtime.txt ./requirements/
RUN python -m venv /opt/aspider \
 && /opt/aspider/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY aspider ./aspider
COPY pbs ./pbs
COPY xnat_client ./xnat_client
COPY examples ./examples
RUN /opt/aspider/bin/pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.11-slim
# uid 10001: mounted secrets must be readable by it (the entrypoint says so when one is not).
RUN useradd --create-home --uid 10001 aspider \
 && mkdir -p /etc/aspider /run/secrets \
 && chown aspider /etc/aspider
COPY --from=build /opt/aspider /opt/aspider
COPY docker/entrypoint.sh /usr/local/bin/aspider-entrypoint
# ASPIDER_IMAGE: with the local executor, `run` waits for its jobs here, since a container
# stops, its jobs with it, when aspider exits.
ENV PATH=/opt/aspider/bin:$PATH \
    ASPIDER_SETTINGS=/etc/aspider/settings.yaml \
    ASPIDER_IMAGE=1 \
    PYTHONUNBUFFERED=1
USER 10001
WORKDIR /home/aspider
ENTRYPOINT ["aspider-entrypoint"]
EXPOSE 8080
CMD ["run", "--all", "--log-format", "json"]
