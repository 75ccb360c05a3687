"""Error-looking lines that no pattern maps are listed, mapped ones and harmless noise are not."""

from __future__ import annotations

import re

from harness.routers.unmapped import looks_like_error, unmapped_error_lines


def test_error_words_and_strerror_texts_look_like_errors() -> None:
    assert looks_like_error(
        "ERROR: cannot create socket on e0: [Errno 105] No buffer space available"
    )
    assert looks_like_error("sendto: Network is unreachable")
    assert looks_like_error("join 224.0.0.2 on e0: errno=98")
    assert not looks_like_error("sent general query on e0")
    assert not looks_like_error("Terror of the deep")  # a word that only contains 'error'


def test_only_unmapped_error_lines_are_listed() -> None:
    lines = [
        "sent query on e0",
        "ERROR: cannot create socket on e0: [Errno 105] No buffer space available",
        "WARNING: cannot join 224.0.0.2 on e1",
        "select() failure; Errno(4): Interrupted system call",
    ]
    mapped = re.compile(r"cannot create socket").search
    listed = unmapped_error_lines(
        lines, lambda line: mapped(line) is not None, re.compile("select")
    )
    assert listed == ["WARNING: cannot join 224.0.0.2 on e1"]
