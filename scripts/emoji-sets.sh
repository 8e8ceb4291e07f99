#!/bin/sh
# Copies the colour image sets that npm installs (package.json) into a dataset folder,
# as png-dir folders of 64x64 RGBA PNGs named by code point (1f600.png):
#   DIR/emoji-noto      Google's Noto emoji (npm emoji-datasource-google; images
#                       under the Apache License 2.0)
#   DIR/emoji-twemoji   Twitter's Twemoji (npm emoji-datasource-twitter; images under
#                       CC-BY 4.0, by Twitter, Inc. and other contributors)
# Copies, not links: the daemon refuses dataset paths that resolve outside its root.
#
#   sh scripts/emoji-sets.sh DIR      e.g. var/datasets (the daemon's default root)
set -eu
cd "$(dirname "$0")/.."
dir=${1:?usage: emoji-sets.sh DIR}
if [ ! -d node_modules/emoji-datasource-google ] || [ ! -d node_modules/emoji-datasource-twitter ]; then
    npm ci --no-audit --no-fund >&2
fi
mkdir -p "$dir"
for set in google:emoji-noto twitter:emoji-twemoji; do
    src=node_modules/emoji-datasource-${set%%:*}/img/${set%%:*}/64
    dst=$dir/${set#*:}
    rm -rf "$dst"
    cp -R "$src" "$dst"
    echo "$dst: $(ls "$dst" | wc -l) images" >&2
done
