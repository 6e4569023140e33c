# dm-agent image, used by docker-compose.yml. TypeScript runs through tsx, so there is no build step.
FROM node:20
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
# Only what the agent runs (copying the context would bring the host's node_modules over the image's).
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY agent ./agent
VOLUME /data
CMD ["npx", "dm-agent", "--nats", "nats://nats:4222", "--name", "agent-1", "--data-dir", "/data"]
