"""The picture size an H.264 sequence parameter set describes: the size the decoder outputs.

An MP4's sample entry and track header carry a width and height of their own, which nothing checks
against the bitstream; a file may claim 16000×16000 for 160×96 pictures. The SPS (stored in the
``avcC`` box) is what the decoder reads, so its size, after the frame cropping it signals, is the size
of every decoded frame. ITU-T H.264 §7.3.2.1.1 and §7.4.2.1.1.
"""
from __future__ import annotations

# profile_idc values whose SPS carries chroma format, bit depths and scaling matrices
HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class BitReader:
    """Big-endian bits of an RBSP, with the Exp-Golomb codes of H.264."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def bit(self) -> int:
        byte = self.data[self.position >> 3]  # IndexError past the end: the caller gives up
        value = byte >> (7 - (self.position & 7)) & 1
        self.position += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise ValueError("Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def unescape(nal: bytes) -> bytes:
    """The RBSP of a NAL unit: every emulation-prevention byte (0x03 after two zero bytes) removed."""
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def skip_scaling_list(bits: BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last


def picture_size(sps: bytes) -> tuple[int, int] | None:
    """(height, width) of the decoded pictures of an SPS NAL unit (its header byte included), cropping
    applied; None when ``sps`` is not a readable SPS."""
    if len(sps) < 4 or sps[0] & 0x1F != 7:
        return None
    try:
        return _parse(BitReader(unescape(sps[1:])))
    except (IndexError, ValueError):
        return None


def _parse(bits: BitReader) -> tuple[int, int] | None:
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format, separate_planes = 1, 0
    if profile in HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            separate_planes = bits.bit()
        bits.ue(), bits.ue()  # bit depths
        bits.bit()  # qpprime_y_zero_transform_bypass_flag
        if bits.bit():  # seq_scaling_matrix_present_flag
            for index in range(12 if chroma_format == 3 else 8):
                if bits.bit():
                    skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    order_type = bits.ue()
    if order_type == 0:
        bits.ue()
    elif order_type == 1:
        bits.bit(), bits.se(), bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue(), bits.bit()  # max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
    width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
    frames_only = bits.bit()
    if not frames_only:
        bits.bit()  # mb_adaptive_frame_field_flag
    bits.bit()  # direct_8x8_inference_flag
    width, height = width_mbs * 16, (2 - frames_only) * height_units * 16
    if bits.bit():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        chroma_array = 0 if separate_planes else chroma_format
        unit_x = 1 if chroma_array in (0, 3) else 2
        unit_y = (2 - frames_only) * (2 if chroma_array == 1 else 1)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    return (height, width) if height > 0 and width > 0 else None
