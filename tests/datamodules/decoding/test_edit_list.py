"""What an edit list shows, worked out from a track's sample tables (no file: the tables are written here).

The track: 60 frames at 25 fps in a 12800 Hz media timescale (512 ticks a frame), movie timescale 1000,
B-frames delaying every presentation time by two frames (1024 ticks), as FFmpeg writes x264's output.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from datamodules.decoding.edit_list import composition_times, fragment_presentation, presentation
from datamodules.decoding.mp4_boxes import Edit, SampleTables

TICKS, DELAY, FRAMES = 512, 1024, 60
ONE = Fraction(1)
# decode order I P B B ... with the B-frames shown before the P that follows them
ORDER = [0] + [i for start in range(1, FRAMES, 3) for i in (start + 2, start, start + 1) if i < FRAMES]


def tables(order: list[int] = ORDER, delay: int = DELAY) -> SampleTables:
    offsets = [shown * TICKS + delay - decoded * TICKS for decoded, shown in enumerate(order)]
    return SampleTables(
        1000, 12800, np.array([[len(order), TICKS]]), np.array([[1, offset] for offset in offsets]), len(order)
    )  # fmt: skip


def ms(frames: int) -> int:
    return frames * 40


def media(frame: int) -> int:
    return DELAY + frame * TICKS


def test_the_sample_tables_give_each_frame_its_presentation_time():
    times = composition_times(tables())
    assert sorted(times.tolist()) == [media(frame) for frame in range(FRAMES)]
    assert times[1] == media(ORDER[1])


def test_the_tables_must_add_up():
    broken = tables()
    assert composition_times(SampleTables(1000, 12800, broken.stts, broken.ctts, FRAMES + 1)) is None
    short_ctts = SampleTables(1000, 12800, broken.stts, broken.ctts[:-1], FRAMES)
    assert composition_times(short_ctts) is None
    assert presentation([Edit(ms(60), media(0), ONE)], short_ctts).change  # not called the identity


def test_the_edit_list_ffmpeg_writes_for_b_frames_is_the_identity():
    result = presentation([Edit(ms(60), media(0), ONE)], tables())
    assert (result.change, result.refusal, result.shown) == ("", "", None)
    assert presentation([Edit(ms(90), media(0), ONE)], tables()).change == ""  # longer than the media


@pytest.mark.parametrize(
    "edits, shown, change",
    [
        ([Edit(ms(53), media(7), ONE)], 53, "it shows frames 7–59 of the 60 coded"),
        ([Edit(ms(50), media(0), ONE)], 50, "it shows frames 0–49 of the 60 coded"),
        ([Edit(ms(59), media(0), ONE)], 59, "it shows frames 0–58 of the 60 coded"),  # the last frame cut
        ([Edit(200, -1, ONE), Edit(ms(60), media(0), ONE)], 60, "it starts 0.2 s late"),
        ([Edit(ms(62), 0, ONE)], 60, "it starts 0.08 s late"),  # from two frames before the first presentation
        ([Edit(200, -1, ONE), Edit(ms(53), media(7), ONE)], 53, "it starts 0.2 s late and shows frames 7–59"),
        ([Edit(ms(20), media(0), ONE), Edit(ms(20), media(40), ONE)], 40, "shows 40 frames of the 60 coded from 2"),
        ([Edit(ms(20), media(0), ONE), Edit(ms(40), media(20), ONE)], 60, "maps the media onto the movie in 2 edits"),
        ([Edit(ms(50), media(7) + TICKS // 2, ONE)], 50, "frames 8–57"),  # frame 7 starts before the edit: not shown
    ],
)
def test_an_edit_list_that_is_not_the_identity_says_what_it_changes(edits, shown, change):
    result = presentation(edits, tables())
    assert result.shown == shown and not result.refusal
    assert change in result.change


@pytest.mark.parametrize(
    "edits, reason",
    [
        ([Edit(ms(30), media(0), Fraction(2))], "entry 1 of its edit list plays the media at rate 2"),
        ([Edit(ms(30), media(0), ONE), Edit(ms(30), media(0), Fraction(1, 2))], "entry 2 of its edit list plays"),
        ([Edit(ms(5), media(10), Fraction(0)), Edit(ms(60), media(0), ONE)], "rate 0"),
        ([Edit(ms(20), media(0), ONE), Edit(ms(5), -1, ONE), Edit(ms(40), media(20), ONE)], "an empty edit after the"),
        ([Edit(ms(5), -1, ONE)], "only empty edits"),
        ([Edit(ms(10), -5, ONE)], "negative media time"),
        ([Edit(ms(10), media(70), ONE)], "shows none of its 60 frames"),
        ([Edit(0, media(0), ONE)], "shows none of its 60 frames"),
        ([Edit(ms(1), media(i % 60), ONE) for i in range(1001)], "more than 1000 entries"),
    ],
)
def test_an_edit_list_ffmpeg_does_not_play_as_written_is_refused(edits, reason):
    assert reason in presentation(edits, tables()).refusal


def seconds(frames: list[int], start: int = 0) -> list[Fraction]:
    return [Fraction(frame - start, 25) for frame in frames]


def test_a_fragmented_movie_is_judged_by_its_packet_times():
    """FFmpeg shifts a fragmented movie's times by the edit list's start and shows every packet."""
    whole = [Edit(0, media(0), ONE)]
    assert fragment_presentation(whole, 1000, seconds(ORDER)) == presentation([], tables())
    cut = fragment_presentation([Edit(ms(53), media(7), ONE)], 1000, seconds(ORDER, start=7))
    assert "hides 7 of the 60 frames of a fragmented MP4" in cut.refusal
    trimmed = fragment_presentation([Edit(ms(50), media(0), ONE)], 1000, seconds(ORDER))
    assert "hides 10 of the 60" in trimmed.refusal
    late = fragment_presentation([Edit(200, -1, ONE), Edit(0, media(0), ONE)], 1000, seconds(ORDER, start=-5))
    assert (late.shown, late.change, late.refusal) == (60, "it starts 0.2 s late", "")
    two = fragment_presentation([Edit(ms(20), media(0), ONE), Edit(ms(20), media(40), ONE)], 1000, seconds(ORDER))
    assert "2 media edits in a fragmented MP4" in two.refusal
