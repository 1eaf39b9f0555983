#!/bin/sh
# Makes fonts/DejaVuSans-tmu.ttf: DejaVu Sans (Debian's fonts-dejavu-core 2.37) cut down to the
# characters the plots use (printable ASCII, Latin-1, Greek, subscript digits and a few symbols), so
# that the plugin renders text without any system font. Run by hand from this folder:
#   pip install fonttools && sh subset.sh
# The font's licence (Bitstream Vera, DejaVu changes in the public domain) allows modified
# copies under a name without "Bitstream" or "Vera"; it is in LICENSE-DejaVu.txt next to it.
set -e
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
  --unicodes="U+0020-007E,U+00A0-00FF,U+0391-03C9,U+2013,U+2014,U+2016,U+2080-2089,U+2018,U+2019,U+201C,U+201D,U+2026,U+2212,U+2248,U+2264,U+2265" \
  --layout-features='' --no-hinting --desubroutinize \
  --output-file=DejaVuSans-tmu.ttf
