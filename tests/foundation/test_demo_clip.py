"""Without Debian's ffmpeg the demo plays the clip shipped in the repo; it is made once."""

from __future__ import annotations

from pathlib import Path

from server.demo_clip import media_dir, prepare_demo_clip


def test_the_demo_copies_the_shipped_clip_without_ffmpeg(tmp_path: Path) -> None:
    assert prepare_demo_clip(tmp_path, ffmpeg=tmp_path / "no-ffmpeg") == "shipped"
    clip = media_dir(tmp_path) / "demo"
    assert sorted(p.name for p in clip.iterdir()) == ["clip.m3u8", "clip0.ts", "clip1.ts"]
    assert (clip / "clip.m3u8").read_text().startswith("#EXTM3U")
    assert prepare_demo_clip(tmp_path) == "kept"
