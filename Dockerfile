# The bitfox binary (API, job runner, keeper, watcher, deployer). Not exercised on the
# project's build machines (no Docker engine there); see localnet/README.md.
FROM rust:1.88-bookworm AS build
WORKDIR /src
# libpq: the PostgreSQL client library (database.url = "postgres://...").
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked -p bitfox

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libpq5 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/bitfox /usr/local/bin/bitfox
ENV BITFOX_DATA_DIR=/var/lib/bitfox
VOLUME /var/lib/bitfox
EXPOSE 8080
ENTRYPOINT ["bitfox"]
CMD ["up"]
