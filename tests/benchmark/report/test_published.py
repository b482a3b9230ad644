"""The published figures the reports print are those of docs/protocols.md, and every citation of
that page names one of its sections."""
from __future__ import annotations

import re
from pathlib import Path

from benchmark.report.published import HYBRID_PUBLISHED, PUBLISHED_TOP1, STUDY_HEAD_ORDER

ROOT = Path(__file__).resolve().parents[3]
PROTOCOLS = ROOT / "docs" / "protocols.md"
CITATION = re.compile(r"docs/protocols\.md, section ([A-Z])\b")


def _section_a_table() -> list[list[str]]:
    text = PROTOCOLS.read_text(encoding="utf-8")
    part = text.split("### Published top-1 (%)", 1)[1].split("\n#", 1)[0]
    rows = [line.strip("|").split("|") for line in part.splitlines() if line.startswith("| ") and " / " in line]
    return [[cell.strip() for cell in row] for row in rows]


def test_the_report_table_is_the_one_in_docs_protocols():
    rows = _section_a_table()
    assert len(rows) == len(STUDY_HEAD_ORDER)
    settings = [("jester", 8), ("ssv2", 8), ("ssv2", 16)]
    for head, row in zip(STUDY_HEAD_ORDER, rows):
        for (dataset, segments), cell in zip(settings, row[1:], strict=True):
            squeezenet, bninception = (float(value) for value in cell.split(" / "))
            assert PUBLISHED_TOP1[(dataset, "squeezenet1_1", segments, head)] == squeezenet, (head, dataset, segments)
            assert PUBLISHED_TOP1[(dataset, "bninception", segments, head)] == bninception, (head, dataset, segments)


def test_every_citation_names_a_section_of_docs_protocols():
    sections = set(re.findall(r"^## ([A-Z])\. ", PROTOCOLS.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert sections == {"A", "B", "C", "D"}
    texts = {
        path: path.read_text(encoding="utf-8")
        for folder in ("benchmark", "configs", "results/reports")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".py", ".yaml", ".md")
    }
    cited = {section for text in texts.values() for section in CITATION.findall(text)}
    assert cited and cited <= sections
    assert not [path for path, text in texts.items() if "SYSTEMS.md" in text]


def _section_c_table() -> list[list[str]]:
    text = PROTOCOLS.read_text(encoding="utf-8")
    part = text.split("**Published** (UCF-101 accuracy % / CCV mAP %)", 1)[1].split("\n\n", 2)[1]
    rows = [line.strip("|").split("|") for line in part.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:]]  # without the header


def test_the_hybrid_figures_are_those_of_docs_protocols_section_c():
    rows = _section_c_table()
    assert [(method, float(ucf101), float(ccv)) for method, ucf101, ccv in rows] == [
        (method, ucf101, ccv) for method, _, ucf101, ccv in HYBRID_PUBLISHED
    ]


def test_every_hybrid_component_has_its_published_method():
    from benchmark.systems.hybrid import COMPONENTS

    reproduced = [component for _, component, _, _ in HYBRID_PUBLISHED if component is not None]
    assert reproduced == list(COMPONENTS)
