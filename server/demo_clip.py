"""The demo's video: a few seconds of HLS the demo rooms play, so a newcomer sees video.

With Debian's ffmpeg (/usr/bin/ffmpeg) the demo makes the clip itself (a test pattern, H.264
baseline in 2-second MPEG-TS segments, which hls.js plays wherever Media Source Extensions
do); without it, it copies the few-second clip shipped in server/demo_media/ (made by the
same command). Either way it lands in `<var>/media/demo/`, which the app serves at /media.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import structlog

log = structlog.get_logger()

FFMPEG = Path("/usr/bin/ffmpeg")
SHIPPED = Path(__file__).resolve().parent / "demo_media"
MEDIA_URL = "/media"
CLIP_URL = f"{MEDIA_URL}/demo/clip.m3u8"
"""What the demo's broadcasts play."""
SECONDS = 4


def media_dir(var_path: Path) -> Path:
    return var_path / "media"


def ffmpeg_command(out: Path) -> list[str]:
    return [
        str(FFMPEG),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=15",
        "-t",
        str(SECONDS),
        "-c:v",
        "libx264",
        "-profile:v",
        "baseline",
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        "100k",
        "-g",
        "30",
        "-an",
        "-f",
        "hls",
        "-hls_time",
        "2",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_filename",
        str(out / "clip%d.ts"),
        str(out / "clip.m3u8"),
    ]


def prepare_demo_clip(var_path: Path, ffmpeg: Path = FFMPEG) -> str:
    """Make (or copy) the clip once; returns how it was made: `ffmpeg`, `shipped` or `kept`."""
    out = media_dir(var_path) / "demo"
    if (out / "clip.m3u8").exists():
        return "kept"
    out.mkdir(parents=True, exist_ok=True)
    if ffmpeg.exists():
        command = ffmpeg_command(out)
        command[0] = str(ffmpeg)
        try:
            subprocess.run(command, check=True, timeout=60, capture_output=True)
            return "ffmpeg"
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("demo.clip_ffmpeg_failed", error=str(exc)[:300])
    for part in SHIPPED.iterdir():
        shutil.copyfile(part, out / part.name)
    return "shipped"
