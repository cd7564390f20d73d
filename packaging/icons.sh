#!/usr/bin/env bash
# Renders the app's icon (assets/icons/campaign-console.svg, drawn for the project) to the PNG
# sizes, the Windows .ico and the macOS .icns that the window, the desktop entry and the
# installers use. Run it after changing the SVG; its output is kept in the repository.
# Needs rsvg-convert (librsvg2-bin), icotool (icoutils) and png2icns (icnsutils).
set -euo pipefail
cd "$(dirname "$0")/../assets/icons"
for tool in rsvg-convert icotool png2icns; do
    command -v "$tool" >/dev/null || { echo "icons.sh needs $tool (apt-get install librsvg2-bin icoutils icnsutils)" >&2; exit 1; }
done
for size in 16 24 32 48 64 128 256 512; do
    rsvg-convert -w "$size" -h "$size" campaign-console.svg -o "${size}x${size}.png"
done
icotool -c -o campaign-console.ico 16x16.png 24x24.png 32x32.png 48x48.png 64x64.png 128x128.png -r 256x256.png
png2icns campaign-console.icns 16x16.png 32x32.png 48x48.png 128x128.png 256x256.png 512x512.png >/dev/null
echo "icons written to $(pwd)"
