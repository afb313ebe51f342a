# The service's container image, in two stages: the first builds the binary from the
# committed Cargo.lock and `.sqlx/` query cache (no database needed to compile), the second
# holds only that binary, run by an unprivileged user.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked --bin hexagate \
    && cp target/release/hexagate /usr/local/bin/hexagate

FROM debian:bookworm-slim
# CA certificates for TLS to Slack, NATS and PostgreSQL; nothing else is installed.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/hexagate hexagate
COPY --from=build /usr/local/bin/hexagate /usr/local/bin/hexagate
USER hexagate
# The SQLite file (the default store) lands here; mount a volume to keep it.
WORKDIR /var/lib/hexagate
ENV HEXAGATE_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hexagate"]
CMD ["serve"]
