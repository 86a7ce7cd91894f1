#!/usr/bin/env bash
# Render workbooks to PNG pages through LibreOffice Calc, to look at what bulkpo writes.
#
#   scripts/render.sh OUTDIR FILE.xlsx [FILE.xlsx ...]
#
# Each FILE becomes OUTDIR/<name>.pdf and OUTDIR/<name>-<page>.png (60 dpi), one page
# per sheet, the whole sheet on it (RENDER_PAGES=print: the print pages instead). Needs
# soffice (LibreOffice) and pdftoppm (poppler-utils). A private LibreOffice profile
# keeps it from clashing with a running LibreOffice or another render.
set -euo pipefail
if [ "$#" -lt 2 ]; then
    echo "usage: $0 OUTDIR FILE.xlsx [FILE.xlsx ...]" >&2
    exit 2
fi
out=$1
shift
mkdir -p "$out"
filter='pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
if [ "${RENDER_PAGES:-}" = print ]; then
    filter=pdf
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for file in "$@"; do
    name=$(basename "${file%.*}")
    soffice -env:UserInstallation="file://$profile" --headless --convert-to "$filter" \
        --outdir "$out" "$file" >/dev/null
    pdftoppm -png -r 60 "$out/$name.pdf" "$out/$name"
    echo "$out/$name: $(ls "$out/$name"-*.png | wc -l) pages"
done
