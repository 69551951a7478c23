# grokflow's master and slave workers (docker-compose.yml runs both from this image).
# No build step: tsx runs the TypeScript sources directly.
FROM node:20.20.2-bookworm-slim

# Debian's Chromium (what CHROMIUM_PATH=/usr/bin/chromium points at) and fonts for the
# pages it renders: Latin metric-compatible, CJK and colour emoji.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      chromium \
      fonts-liberation \
      fonts-noto-cjk \
      fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Runtime dependencies only (tsx is one). The only packages with install scripts are the
# ones package.json's allowScripts turns off, so none run.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force

# Sources stay owned by root: the service user can read them, not change them.
COPY . .

# Folders the service writes; compose mounts volumes over them, and a fresh named volume
# takes this ownership.
RUN mkdir -p accounts downloads artifacts .data \
 && chown node:node accounts downloads artifacts .data

USER node
EXPOSE 9464
# node itself, not `npm run slave`: npm does not pass SIGTERM on to its child.
CMD ["node", "--import", "tsx", "src/slave/main.ts"]
