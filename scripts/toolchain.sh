# Sourced by ./pnpm. Puts Node >= 22 and pnpm 12 on PATH, installing them into .tools/
# from the npm registry when missing, then makes sure node_modules matches the lockfile.
tools="$root/.tools"
export PATH="$tools/bin:$PATH"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ] || ! command -v pnpm >/dev/null 2>&1; then
  echo "parallax: installing Node 24 and pnpm 12 into .tools/ (the machine has Node $(node --version 2>/dev/null || echo none))" >&2
  npm install --global --prefix "$tools" --no-audit --no-fund --loglevel=error node@24 pnpm@12 >&2
  hash -r
fi
if [ "$(node_major)" -lt 22 ]; then
  echo "parallax: Node >= 22 is required, found $(node --version); see README" >&2
  exit 1
fi

# Install (or re-install) packages when node_modules is missing or older than the lockfile.
stamp="$root/node_modules/.parallax-installed"
if [ ! -f "$stamp" ] || [ "$root/pnpm-lock.yaml" -nt "$stamp" ] || [ "$root/package.json" -nt "$stamp" ]; then
  echo "parallax: installing packages (pnpm install)" >&2
  if [ -n "${CI:-}" ]; then
    (cd "$root" && pnpm install --frozen-lockfile --reporter=append-only) >&2
  else
    (cd "$root" && pnpm install --reporter=append-only) >&2
  fi
  touch "$stamp"
fi
