#!/bin/sh
# Makes what deploy/compose.yaml expects beside it and never commits (deploy/.gitignore): random secrets in
# deploy/secrets/ (hex, so that they fit in a URL unescaped) and, without a certificate in deploy/tls/, a
# self-signed one for nginx (replace tls.crt and tls.key with real ones). Keeps whatever already exists.
# Usage: deploy/make-secrets.sh [DIR]   (DIR: where compose.yaml is; default: this script's directory)
set -eu

dir="${1:-$(dirname "$0")}"
mkdir -p "$dir/secrets" "$dir/tls"
# The directory keeps other users of the host out; the files stay readable to the containers' own users
# (compose mounts them as they are: postgres, prometheus and grafana do not run as root).
chmod 0700 "$dir/secrets" "$dir/tls"

for name in rialto_jwt_secret rialto_metrics_token postgres_password grafana_admin_password; do
  file="$dir/secrets/$name"
  if [ ! -s "$file" ]; then
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file"
    chmod 0644 "$file"
    echo "made $file"
  fi
done

if [ ! -s "$dir/tls/tls.crt" ] || [ ! -s "$dir/tls/tls.key" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=localhost' \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
    -keyout "$dir/tls/tls.key" -out "$dir/tls/tls.crt" 2>/dev/null
  chmod 0644 "$dir/tls/tls.crt"
  chmod 0600 "$dir/tls/tls.key"
  echo "made a self-signed certificate for localhost in $dir/tls (30 days): replace it with a real one"
fi
