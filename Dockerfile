# The Berth registry as a container image: `berth serve` on port 5000, data in the /data volume,
# running as uid 1000. See the README's "Deploying" section.
#
# Both base images are build arguments so that a mirror or a locally made base can stand in
# (the e2e test builds both from the test machine's own node, with no access to Docker Hub).
# Any replacement must be glibc-based (bcrypt loads a bundled glibc prebuild), have node 20 on
# PATH and /usr/bin/env (bin/berth's `#!/usr/bin/env -S node ...` line carries the V8 and
# thread-pool settings); the build base also needs npm and /bin/sh.
ARG BUILD_BASE=node:20-bookworm-slim
ARG RUNTIME_BASE=node:20-bookworm-slim

FROM ${BUILD_BASE} AS build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /src
COPY package.json package-lock.json ./
# Dependencies get a layer of their own, so a source change does not fetch them again; their
# install scripts wait for the sources because the package's own `prepare` is the build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin/ bin/
COPY src/ src/
# rebuild runs the dependencies' install scripts (bcrypt picks its prebuild); prune leaves
# only what `berth serve` needs.
RUN npm rebuild \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir /data

FROM ${RUNTIME_BASE}
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/bin/ bin/
COPY --from=build /src/dist/src/ dist/src/
# An empty /data owned by the service user: a new named volume starts as a copy of it.
COPY --from=build --chown=1000:1000 /data /data
ENV BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data \
    BERTH_HTTP_ADDR=0.0.0.0:5000
# Numeric, so that Kubernetes' runAsNonRoot can verify it; uid 1000 is `node` in the node images.
USER 1000:1000
VOLUME /data
EXPOSE 5000
# No curl in the base: `berth healthcheck` asks /readyz with node, at the configured address.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/app/bin/berth", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bin/berth"]
CMD ["serve"]
