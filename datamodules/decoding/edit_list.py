"""Which frames an MP4/MOV edit list shows, and whether that is every coded frame as it stands.

A track's edit list (``edts/elst``) maps the movie's timeline onto the media: each entry shows the
samples whose presentation (composition) time lies in ``[media_time, media_time + duration)``, and an
empty entry (media_time -1) shows nothing for its duration. A stream-copy cut at a non-key frame
(``ffmpeg -ss … -c copy``) keeps the pictures from the key frame before the cut, which the later ones
need, and writes an edit list whose media_time skips them: they are decoded, never shown. FFmpeg's
demuxer follows such lists: the pictures outside the edits come in packets flagged "discard" and the
decoder drops them, so PyAV decoding in order yields exactly the shown frames — a frame counts as shown
when its presentation time starts inside an edit. decord counts and seeks over every coded picture
and returns repeated or shifted frames there.

:func:`presentation` says what an edit list does with a track's samples: nothing (the identity: one
edit, at rate 1, from the first presentation time over every sample), or what it changes, or why the
file is refused: an edit at a rate other than 1 or an empty edit after the start, which FFmpeg does
not play as written (it plays a rate-2 edit at rate 1 and repeats frames around a pause), and an edit
list that shows no frame. FFmpeg applies only the start of an edit list to a fragmented MP4, whose
samples are not in the moov's tables: :func:`fragment_presentation` works from the packet times then.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from datamodules.decoding.mp4_boxes import MAX_EDITS, Edit, SampleTables

EMPTY = -1  # the media_time of an empty edit
MAX_SAMPLES = 1 << 24  # a sample table claiming more samples than this is not expanded


@dataclass(frozen=True)
class Presentation:
    """What a track's edit list does: ``shown`` frames (None: not counted here), ``change`` ("" for the
    identity; otherwise what it changes, e.g. "it shows frames 7–59 of the 60 coded"), ``refusal`` (""
    when the frames it shows can be read; otherwise why not)."""

    shown: int | None
    change: str = ""
    refusal: str = ""


IDENTITY = Presentation(None)


def composition_times(tables: SampleTables) -> np.ndarray | None:
    """Each sample's presentation time (media timescale), in decode order; None when the tables do not
    agree with the sample count."""
    counts, deltas = tables.stts[:, 0], tables.stts[:, 1]
    total = int(counts.sum()) if len(counts) else 0
    if total != tables.sample_count or total > MAX_SAMPLES or (counts < 0).any():
        return None
    decode_times = np.concatenate(([0], np.cumsum(np.repeat(deltas, counts))[:-1])) if total else np.zeros(0, np.int64)
    if tables.ctts is None or not len(tables.ctts):
        return decode_times
    counts, offsets = tables.ctts[:, 0], tables.ctts[:, 1]
    if (counts < 0).any() or int(counts.sum()) != total:
        return None
    return decode_times + np.repeat(offsets, counts)


def rule_problem(edits: Sequence[Edit]) -> str:
    """Why FFmpeg would not play ``edits`` as written ("" when it would)."""
    if len(edits) > MAX_EDITS:
        return f"its edit list has more than {MAX_EDITS} entries"
    for number, edit in enumerate(edits, start=1):
        if edit.media_time == EMPTY:
            if number > 1:
                return f"entry {number} of its edit list is an empty edit after the start (a pause inside the video)"
        elif edit.media_time < 0:
            return f"entry {number} of its edit list starts at a negative media time ({edit.media_time})"
        elif edit.rate != 1:
            return f"entry {number} of its edit list plays the media at rate {float(edit.rate):g}, not 1"
    if all(edit.media_time == EMPTY for edit in edits):
        return "its edit list holds only empty edits"
    return ""


def shown_samples(edits: Sequence[Edit], tables: SampleTables, times: np.ndarray) -> np.ndarray:
    """Indices (decode order) of the samples the edits show, in the order they are shown."""
    movie, media = tables.movie_timescale, tables.media_timescale
    shown = []
    for edit in edits:
        if edit.media_time == EMPTY:
            continue
        end = min(edit.media_time * movie + edit.duration * media, 1 << 62)  # the edit's end × movie timescale
        inside = (times >= edit.media_time) & (times * movie < end)
        picked = np.flatnonzero(inside)
        shown.append(picked[np.argsort(times[picked], kind="stable")])
    return np.concatenate(shown) if shown else np.zeros(0, np.int64)


def presentation(edits: Sequence[Edit], tables: SampleTables | None) -> Presentation:
    """What ``edits`` do with the samples of a (not fragmented) track whose timing ``tables`` are given."""
    if not edits:
        return IDENTITY
    if problem := rule_problem(edits):
        return Presentation(None, refusal=f"{problem}: FFmpeg does not play it as written")
    times = composition_times(tables) if tables is not None and tables.movie_timescale > 0 else None
    if times is None:
        return Presentation(None, "over sample tables that do not add up: its frames are counted as they decode")
    shown = shown_samples(edits, tables, times)
    if not len(shown):
        return Presentation(0, refusal=f"its edit list shows none of its {len(times)} frames")
    in_order = np.argsort(times, kind="stable")
    media_edits = [edit for edit in edits if edit.media_time != EMPTY]
    delay = Fraction(edits[0].duration, tables.movie_timescale) if edits[0].media_time == EMPTY else Fraction(0)
    delay += Fraction(int(times[shown[0]]) - media_edits[0].media_time, tables.media_timescale)  # a gap before it
    if not delay and len(media_edits) == 1 and len(shown) == len(times):
        return IDENTITY
    return Presentation(len(shown), what_changes(shown, in_order, delay, len(media_edits)))


def what_changes(shown: np.ndarray, in_order: np.ndarray, delay: Fraction, media_edits: int) -> str:
    """E.g. "it shows frames 7–59 of the 60 coded", "it starts 0.2 s late", "it shows 40 frames of the 60
    coded from 2 edits"; ``shown`` and ``in_order`` are sample indices, the second every sample by presentation time."""
    changes = [f"starts {float(delay):.3g} s late"] if delay else []
    rank = np.empty_like(in_order)
    rank[in_order] = np.arange(len(in_order))
    positions = rank[shown]  # each shown frame's place among the coded frames in presentation order
    total = len(in_order)
    if len(positions) == total and (positions == np.arange(total)).all():
        pass
    elif (np.diff(positions) == 1).all():
        first, last = int(positions[0]), int(positions[-1])
        changes.append(f"shows frames {first}–{last} of the {total} coded")
    else:
        changes.append(f"shows {len(positions)} frames of the {total} coded from {media_edits} edits")
    return "it " + (" and ".join(changes) or f"maps the media onto the movie in {media_edits} edits")


def fragment_presentation(
    edits: Sequence[Edit], movie_timescale: int, packet_times: Sequence[Fraction]
) -> Presentation:
    """What ``edits`` do in a fragmented MP4, from its packets' presentation times (seconds, as FFmpeg
    gives them: already shifted by the edit list's start), since FFmpeg shows every packet there."""
    if not edits:
        return IDENTITY
    problem = rule_problem(edits)
    media_edits = [edit for edit in edits if edit.media_time != EMPTY]
    if not problem and len(media_edits) > 1:
        problem = f"its edit list has {len(media_edits)} media edits"
    if problem:
        return Presentation(None, refusal=f"{problem} in a fragmented MP4, where FFmpeg applies only its start")
    if not movie_timescale or not packet_times:
        return Presentation(None, "over fragments whose times cannot be read")
    delay = Fraction(edits[0].duration, movie_timescale) if edits[0].media_time == EMPTY else Fraction(0)
    end = delay + Fraction(media_edits[0].duration, movie_timescale)
    hidden = sum(1 for time in packet_times if time < delay or (media_edits[0].duration and time >= end))
    if hidden:
        return Presentation(None, refusal=f"its edit list hides {hidden} of the {len(packet_times)} frames of a "
                                          "fragmented MP4, where FFmpeg applies only its start")  # fmt: skip
    if delay or min(packet_times) != 0:
        return Presentation(len(packet_times), f"it starts {float(min(packet_times)):.3g} s late")
    return IDENTITY
