"""Small clips in the codecs and containers the eight datasets ship in, every frame's index drawn into its pixels.

Each frame shows its 0-based index as 8 bits in a grid of large black/white cells (2 rows × 4 columns,
or 4 × 2 for a portrait frame), which survives any of these codecs at their default quality; with
:func:`frame_index` a test reads back which frame a reader returned. Encoded with PyAV (this machine
has no ``ffmpeg`` binary; PyAV bundles the FFmpeg libraries and their encoders, libxvid excepted: the
MPEG-4 Part 2 clips are FFmpeg's ``mpeg4`` encoder tagged ``XVID``, the same bitstream).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 64, 48
BITS = 8


def grid(height: int, width: int) -> tuple[int, int]:
    return (4, 2) if height > width else (2, 4)


def pattern(index: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """An RGB frame (height, width, 3) whose cells spell ``index`` in binary (cell 0 = bit 0)."""
    rows, cols = grid(height, width)
    frame = np.zeros((height, width, 3), np.uint8)
    for bit in range(BITS):
        if index >> bit & 1:
            r, c = divmod(bit, cols)
            frame[r * height // rows : (r + 1) * height // rows, c * width // cols : (c + 1) * width // cols] = 255
    return frame


def frame_index(frame: np.ndarray) -> int:
    """The index a frame spells: each cell's centre half is averaged and thresholded."""
    height, width = frame.shape[:2]
    rows, cols = grid(height, width)
    value = 0
    for bit in range(BITS):
        r, c = divmod(bit, cols)
        h, w = height / rows, width / cols
        cell = frame[int(r * h + h / 4) : int(r * h + 3 * h / 4), int(c * w + w / 4) : int(c * w + 3 * w / 4)]
        value |= int(cell.mean() > 127) << bit
    return value


@dataclass(frozen=True)
class Clip:
    """How one test clip is encoded."""

    name: str
    suffix: str
    container: str
    codec: str
    frames: int
    gop: int = 12
    b_frames: int = 0
    tag: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    vfr: bool = False
    rotate: int = 0  # display rotation (degrees anticlockwise, as FFmpeg's display matrix)
    no_cues: bool = False
    decord: bool = False  # read with decord (its seek is exact here); else decoded in order with PyAV
    prebuilt: str | None = None  # a two-pass clip in ALT_REF_CLIPS, copied (no_cues: remuxed without Cues)

    @property
    def file_name(self) -> str:
        return self.name + self.suffix


# Alt-ref frames asked for; libvpx's one-pass mode emits none in clips like these (no hidden VP8 frame,
# no VP9 superframe), and PyAV cannot run the two-pass encode that makes them (it exposes no stats_out):
# the clips with alt-ref frames are made by make_alt_ref_clips.py and committed in ALT_REF_CLIPS.
ALT_REF = {"auto-alt-ref": "1", "lag-in-frames": "16"}
ALT_REF_CLIPS = Path(__file__).parent / "alt_ref_clips"
CLIPS: tuple[Clip, ...] = (
    # UCF11's .mpg: MPEG-1 / MPEG-2 program streams, GOP 12 without and GOP 15 with B-frames
    Clip("mpeg1_ps_gop12", ".mpg", "mpeg", "mpeg1video", 60),
    Clip("mpeg1_ps_gop15_b2", ".mpg", "mpeg", "mpeg1video", 75, gop=15, b_frames=2),
    Clip("mpeg2_ps_gop12", ".mpg", "vob", "mpeg2video", 60),
    Clip("mpeg2_ps_gop15_b2", ".mpg", "vob", "mpeg2video", 75, gop=15, b_frames=2),
    Clip("mpeg1_avi", ".avi", "avi", "mpeg1video", 48, b_frames=2),
    # UCF-101 / HMDB-51 / UCF Sports: MPEG-4 Part 2 (Xvid, DivX) in AVI
    Clip("xvid_avi", ".avi", "avi", "mpeg4", 60, tag="XVID", decord=True),
    Clip("xvid_avi_b2", ".avi", "avi", "mpeg4", 90, b_frames=2, tag="XVID"),
    Clip("divx_avi_b1", ".avi", "avi", "mpeg4", 70, b_frames=1, tag="DX50"),
    Clip("mpeg4_mp4_b2", ".mp4", "mp4", "mpeg4", 60, b_frames=2),
    # Kinetics / CCV: H.264 mp4 (B-frames, variable frame rate, a phone's rotation), HEVC, AV1
    Clip("h264_b3", ".mp4", "mp4", "libx264", 60, options={"x264-params": "bframes=3:b-pyramid=normal"}, decord=True),
    Clip("h264_vfr", ".mp4", "mp4", "libx264", 50, vfr=True, options={"x264-params": "bframes=2"}, decord=True),
    Clip("h264_rotated", ".mp4", "mp4", "libx264", 40, rotate=90, options={"x264-params": "bframes=2"}),
    Clip("h264_rotated_180", ".mp4", "mp4", "libx264", 30, rotate=180),
    Clip("h264_rotated_270", ".mp4", "mp4", "libx264", 30, rotate=270),
    Clip("hevc_mp4_b3", ".mp4", "mp4", "libx265", 60, options={"x265-params": "bframes=3:log-level=error"}),
    Clip("av1_mp4", ".mp4", "mp4", "libsvtav1", 40, options={"svtav1-params": "log-level=0"}),
    # Something-Something v2: VP8 / VP9 WebM, with and without cues
    Clip("vp8_cues", ".webm", "webm", "libvpx", 60, options=ALT_REF, decord=True),
    Clip("vp9_cues", ".webm", "webm", "libvpx-vp9", 60, options=ALT_REF, decord=True),
    Clip("vp9_no_cues", ".webm", "webm", "libvpx-vp9", 60, options=ALT_REF, no_cues=True),
    Clip("vp8_no_cues", ".webm", "webm", "libvpx", 45, options=ALT_REF, no_cues=True),
    Clip("vp9_mp4", ".mp4", "mp4", "libvpx-vp9", 60, options=ALT_REF, decord=True),
    # ... and with hidden alt-ref frames: VP8's are packets of their own, VP9's ride in superframes
    Clip("vp8_alt_ref", ".webm", "webm", "libvpx", 60, prebuilt="vp8_alt_ref.webm"),
    Clip("vp8_alt_ref_no_cues", ".webm", "webm", "libvpx", 60, prebuilt="vp8_alt_ref.webm", no_cues=True),
    Clip("vp9_alt_ref", ".webm", "webm", "libvpx-vp9", 60, prebuilt="vp9_alt_ref.webm", decord=True),
    Clip("vp9_alt_ref_no_cues", ".webm", "webm", "libvpx-vp9", 60, prebuilt="vp9_alt_ref.webm", no_cues=True),
)


def can_encode(clip: Clip) -> str:
    """Why this machine's PyAV cannot write ``clip`` ("" when it can)."""
    try:
        if clip.prebuilt:  # only remuxed: the muxer is enough
            av.format.ContainerFormat(clip.container, "w")
            return ""
        av.codec.Codec(clip.codec, "w")
        av.format.ContainerFormat(clip.container, "w")
    except Exception as error:  # PyAV raises UnknownCodecError / ValueError by version
        return f"PyAV here has no {clip.codec} encoder or {clip.container} muxer ({error})"
    return ""


def display_frames(clip: Clip) -> np.ndarray:
    """The frames as a correct reader shows them (portrait when the clip is rotated by 90°)."""
    if clip.rotate % 180:
        return np.stack([pattern(i, WIDTH, HEIGHT) for i in range(clip.frames)])
    return np.stack([pattern(i) for i in range(clip.frames)])


class Unseekable(io.RawIOBase):
    """A write-only file the muxer cannot seek in: a WebM written to it has no Cues (like a live stream)."""

    def __init__(self, handle: io.BufferedWriter) -> None:
        self.handle = handle

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data) -> int:
        return self.handle.write(data)


def encode(clip: Clip, folder: Path) -> Path:
    """Write ``clip`` into ``folder``; returns its path."""
    path = folder / clip.file_name
    shown = display_frames(clip)
    # the coded frames are the shown ones turned back; the display matrix turns them again when shown
    coded = np.stack([np.rot90(frame, k=-clip.rotate // 90) for frame in shown]) if clip.rotate else shown
    with open(path, "wb") as handle:
        target = Unseekable(handle) if clip.no_cues else handle
        with av.open(target, mode="w", format=clip.container) as container:
            if clip.prebuilt:
                copy_stream(ALT_REF_CLIPS / clip.prebuilt, container)
            else:
                write_stream(container, clip, coded)
    return path


def copy_stream(source: Path, container) -> None:
    """Remux the video packets of ``source`` into ``container`` unchanged (hidden frames included)."""
    with av.open(str(source)) as original:
        stream = container.add_stream_from_template(original.streams.video[0])
        for packet in original.demux(original.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                container.mux(packet)


def write_stream(container, clip: Clip, coded: np.ndarray) -> None:
    stream = container.add_stream(clip.codec, rate=25)
    stream.width, stream.height = coded.shape[2], coded.shape[1]
    stream.pix_fmt = "yuv420p"
    stream.gop_size = clip.gop
    stream.codec_context.max_b_frames = clip.b_frames
    stream.codec_context.thread_count = 1
    if clip.tag:
        stream.codec_context.codec_tag = clip.tag
    if clip.codec in ("mpeg1video", "mpeg2video", "mpeg4"):
        stream.codec_context.bit_rate = 1_000_000
    options = dict(clip.options)
    if clip.codec == "libx264":
        options = {"preset": "veryfast", "crf": "18", **options}
        options["x264-params"] = options.get("x264-params", "bframes=0") + f":keyint={clip.gop}:threads=1"
    stream.options = options
    if clip.vfr:
        stream.codec_context.time_base = Fraction(1, 1000)
    if clip.rotate:
        stream.set_display_rotation(clip.rotate)
    pts = 0
    for i, image in enumerate(coded):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        if clip.vfr:  # 40, 20, 80 ms apart in turn
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += (40, 20, 80)[i % 3]
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def jpeg_folder(folder: Path, frames: int, first: int = 1, template: str = "{:05d}.jpg") -> Path:
    """A frame folder of ``frames`` JPEGs named by ``template`` from ``first``."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        cv2.imwrite(str(folder / template.format(first + i)), pattern(i)[:, :, ::-1])
    return folder
