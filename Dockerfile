# syntax=docker/dockerfile:1
# One image for the whole platform; the command picks the service:
#   docker build -t connector-preflight .
#   docker run --rm -e KAFKA_BROKERS=… -e HEALTH_PORT=8090 connector-preflight handshake
# Stages: build (every dependency, tsc to dist/, then the dev dependencies pruned away) →
# runtime (dist/ + production node_modules, non-root, no TypeScript toolchain, no sources).

ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so a source change does not re-run npm ci.
COPY package.json package-lock.json ./
COPY packages/auth/package.json packages/auth/
COPY packages/bus/package.json packages/bus/
COPY packages/cli/package.json packages/cli/
COPY packages/cli/bin packages/cli/bin
COPY packages/connectors/package.json packages/connectors/
COPY packages/contracts/package.json packages/contracts/
COPY packages/core/package.json packages/core/
COPY packages/events/package.json packages/events/
COPY packages/local-infra/package.json packages/local-infra/
COPY packages/testkit/package.json packages/testkit/
COPY services/credential-auditor/package.json services/credential-auditor/
COPY services/handshake/package.json services/handshake/
COPY services/projector/package.json services/projector/
COPY services/readiness/package.json services/readiness/
COPY services/schema-registry/package.json services/schema-registry/
COPY services/schema-validator/package.json services/schema-validator/
RUN npm ci --no-audit --no-fund --ignore-scripts
# The one install script the image needs: the project's kafkajs patches (docs/bus.md).
COPY scripts/patch-deps.mjs scripts/
COPY patches patches
RUN node scripts/patch-deps.mjs

COPY tsconfig.base.json tsconfig.json ./
COPY scripts/build.mjs scripts/
COPY packages packages
COPY services services
RUN node scripts/build.mjs --image \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PREFLIGHT_DATA_DIR=/var/lib/preflight \
    API_HOST=0.0.0.0 \
    HEALTH_HOST=0.0.0.0 \
    SCHEMA_REGISTRY_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/package.json /app/package-lock.json ./
# Workspace manifests (node_modules/@preflight/* link to these folders), dist/ and nested
# production dependencies; the Avro schemas the code reads at runtime.
COPY --from=build /app/packages packages
COPY --from=build /app/services services
COPY schemas schemas
COPY deploy/image deploy/image
RUN mkdir -p /var/lib/preflight && chown 1000:1000 /var/lib/preflight
# The `node` user of the base image; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081 8090
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/deploy/image/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/deploy/image/entrypoint.mjs"]
CMD ["--help"]
