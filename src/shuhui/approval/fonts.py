"""The Chinese font documents are set in: WenQuanYi Zen Hei, Debian's ``fonts-wqy-zenhei``
(``scripts/system-deps.sh`` installs it). The e-licences' PDFs and the sample documents both
find it here."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

FONT_FAMILY = "WenQuanYi Zen Hei"
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),
    Path("/usr/local/share/fonts/wqy-zenhei.ttc"),
)


class FontMissing(RuntimeError):
    """The Chinese font is not installed: documents cannot be set."""


@cache
def font_path() -> Path:
    """The font's file: where Debian puts it, else where fontconfig finds it."""
    for path in FONT_FILES:
        if path.is_file():
            return path
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run(  # noqa: S603 - a fixed command, no input of anyone's
                [fc_match, "-f", "%{file}\n%{family}", FONT_FAMILY],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            found = []
        # fc-match always answers, with a fallback font when the family is missing.
        if len(found) == 2 and FONT_FAMILY.lower() in found[1].lower() and Path(found[0]).is_file():
            return Path(found[0])
    raise FontMissing(
        "没有找到中文字体文泉驿正黑（WenQuanYi Zen Hei）：请运行 scripts/system-deps.sh，"
        "或 apt-get install fonts-wqy-zenhei"
    )
