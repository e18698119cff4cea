from collections.abc import Sequence

def scan_texts(
    texts: Sequence[str],
    max_word_period: int,
    min_word_repeats: int,
    min_word_span: int,
    max_char_period: int,
    min_char_repeats: int,
    min_char_span: int,
    /,
) -> bytes: ...
