# dm-agent image, used by docker-compose.yml. `npm ci` runs `prepare`, which compiles the TypeScript to dist/ (what
# bin/dm-agent.js runs) and bundles dmctl (scripts/bundle.mjs), so the sources, the tsconfig files and that script are
# copied before it.
FROM node:20
WORKDIR /app
# Only what the agent's build and run need (copying the context would bring the host's node_modules over the image's).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY agent ./agent
COPY tui ./tui
COPY scripts/bundle.mjs ./scripts/
RUN npm ci
VOLUME /data
# Metrics, /healthz and /readyz on DM-worker's port.
EXPOSE 8262
CMD ["npx", "dm-agent", "--nats", "nats://nats:4222", "--name", "agent-1", "--data-dir", "/data", "--metrics-addr", ":8262"]
