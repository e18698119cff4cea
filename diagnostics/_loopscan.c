/* Optional compiled scan for ludwig_doctor.diagnostics.loops.analyse_texts.
 *
 * scan_texts() finds the words of each text exactly as str.split() does (Py_UNICODE_ISSPACE, the
 * test behind str.isspace()), counts its distinct n-grams for n = 1..4 with an open-addressing hash
 * set of 64-bit hashes, and searches it for the longest word loop and character loop with the same
 * rules as the NumPy path in loops.py. It returns SCAN_FIELDS int64 values per text, packed in bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* words, distinct 1..4-grams, word loop (period, first word, words covered), character loop
 * (period, first character, characters covered). A loop's period is 0 when there is none. */
#define SCAN_FIELDS 11

/* Words longer than this are hashed with Python's hash() of the word: polynomial hashes modulo
 * 2**64 of words thousands of characters long can collide (Thue-Morse strings do, for any base). */
#define MAX_POLYNOMIAL_WORD 1024

#define HASH_BASE 0x9E3779B97F4A7C15ULL
#define NGRAM_MULTIPLIER 0xD6E8FEB86659FD93ULL

typedef struct {
    Py_ssize_t max_word_period, min_word_repeats, min_word_span;
    Py_ssize_t max_char_period, min_char_repeats, min_char_span;
} Rules;

/* Buffers reused from text to text; each grows to the largest text seen. */
typedef struct {
    uint64_t *hashes;     /* word hashes, then n-gram hashes */
    Py_ssize_t hash_capacity;
    uint64_t *words;      /* word hashes, kept for the word loop search */
    Py_ssize_t word_capacity;
    Py_ssize_t *segments; /* start and length of each run of word or space characters long enough */
    Py_ssize_t segment_capacity;
    uint64_t *slots;      /* the hash set; 0 marks an empty slot */
    size_t slot_count;
} Buffers;

static inline uint64_t
mix64(uint64_t value)
{
    value ^= value >> 30;
    value *= 0xBF58476D1CE4E5B9ULL;
    value ^= value >> 27;
    value *= 0x94D049BB133111EBULL;
    return value ^ (value >> 31);
}

/* Grow *buffer to hold count items of item_size bytes; return -1 with MemoryError set on failure. */
static int
reserve(void **buffer, Py_ssize_t *capacity, Py_ssize_t count, size_t item_size)
{
    if (count <= *capacity) {
        return 0;
    }
    if ((size_t)count > PY_SSIZE_T_MAX / item_size) {
        PyErr_NoMemory();
        return -1;
    }
    void *grown = PyMem_Realloc(*buffer, (size_t)count * item_size);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *buffer = grown;
    *capacity = count;
    return 0;
}

/* Hash the words of text into buffers->hashes and record its long segments; return the word count
 * and the segment count, or -1 with an exception set. */
static inline Py_ALWAYS_INLINE Py_ssize_t
tokenize(PyObject *text, int kind, const void *data, Py_ssize_t length, Py_ssize_t min_segment,
         Buffers *buffers, Py_ssize_t *segment_count)
{
    Py_ssize_t words = 0, segments = 0, index = 0;
    while (index < length) {
        Py_ssize_t start = index;
        if (Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, index))) {
            do {
                index++;
            } while (index < length && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, index)));
        }
        else {
            uint64_t hash = 0;
            do {
                hash = hash * HASH_BASE + (uint64_t)PyUnicode_READ(kind, data, index) + 1;
                index++;
            } while (index < length && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, index)));
            if (index - start > MAX_POLYNOMIAL_WORD) {
                PyObject *word = PyUnicode_Substring(text, start, index);
                if (word == NULL) {
                    return -1;
                }
                Py_hash_t word_hash = PyObject_Hash(word);
                Py_DECREF(word);
                if (word_hash == -1 && PyErr_Occurred()) {
                    return -1;
                }
                hash = (uint64_t)word_hash;
            }
            buffers->hashes[words++] = mix64(hash + (uint64_t)(index - start));
        }
        if (index - start >= min_segment) {
            buffers->segments[2 * segments] = start;
            buffers->segments[2 * segments + 1] = index - start;
            segments++;
        }
    }
    *segment_count = segments;
    return words;
}

/* Return the number of distinct values among keys[0 .. count). */
static Py_ssize_t
count_distinct(const uint64_t *keys, Py_ssize_t count, uint64_t *slots, size_t slot_count)
{
    size_t mask = slot_count - 1;
    Py_ssize_t distinct = 0;
    int zero_seen = 0;
    memset(slots, 0, slot_count * sizeof(uint64_t));
    for (Py_ssize_t index = 0; index < count; index++) {
        uint64_t key = keys[index];
        if (key == 0) {
            distinct += !zero_seen;
            zero_seen = 1;
            continue;
        }
        size_t slot = (size_t)(key ^ (key >> 32)) & mask;
        while (slots[slot] != 0 && slots[slot] != key) {
            slot = (slot + 1) & mask;
        }
        if (slots[slot] == 0) {
            slots[slot] = key;
            distinct++;
        }
    }
    return distinct;
}

/* Update best (period, start, covered) with the longest run where VALUE(i) == VALUE(i + period)
 * for i in [first, last - period), for periods 1..max_period. A run counts only if it covers
 * min_repeats copies of its unit. As in the NumPy path, more coverage wins, then the smaller
 * period, then the earlier start. */
#define LONGEST_PERIODIC_RUN(VALUE, first, last, max_period, min_repeats, best)                    \
    do {                                                                                         \
        for (Py_ssize_t period = 1; period <= (max_period) && period < (last) - (first); period++) { \
            Py_ssize_t run = 0, longest = 0, longest_start = 0;                                    \
            for (Py_ssize_t i = (first); i < (last) - period; i++) {                               \
                if (VALUE(i) == VALUE(i + period)) {                                               \
                    run++;                                                                        \
                    if (run > longest) {                                                          \
                        longest = run;                                                            \
                        longest_start = i - run + 1;                                              \
                    }                                                                             \
                }                                                                                 \
                else {                                                                            \
                    run = 0;                                                                      \
                }                                                                                 \
            }                                                                                     \
            Py_ssize_t covered = longest + period;                                                \
            if (longest == 0 || covered < (min_repeats) * period) {                               \
                continue;                                                                         \
            }                                                                                     \
            if (covered > (best)[2] ||                                                            \
                (covered == (best)[2] && (period < (best)[0] ||                                   \
                                          (period == (best)[0] && longest_start < (best)[1])))) { \
                (best)[0] = period;                                                               \
                (best)[1] = longest_start;                                                        \
                (best)[2] = covered;                                                              \
            }                                                                                     \
        }                                                                                         \
    } while (0)

#define WORD_AT(i) (words[i])
#define CHAR_AT(i) (PyUnicode_READ(kind, data, i))

/* Fill row (SCAN_FIELDS values) with the measures of one text; return -1 with an exception set. */
static inline Py_ALWAYS_INLINE int
scan_text(PyObject *text, int kind, const void *data, Py_ssize_t length, const Rules *rules,
          Buffers *buffers, int64_t *row)
{
    /* A text of length characters has at most (length + 1) / 2 words, and at most
     * length / min_char_span + 1 segments. */
    Py_ssize_t max_words = length / 2 + 1;
    Py_ssize_t max_segments = length / rules->min_char_span + 1;
    if (reserve((void **)&buffers->hashes, &buffers->hash_capacity, max_words, sizeof(uint64_t)) < 0 ||
        reserve((void **)&buffers->words, &buffers->word_capacity, max_words, sizeof(uint64_t)) < 0 ||
        reserve((void **)&buffers->segments, &buffers->segment_capacity, 2 * max_segments,
                sizeof(Py_ssize_t)) < 0) {
        return -1;
    }

    Py_ssize_t segments = 0;
    Py_ssize_t count = tokenize(text, kind, data, length, rules->min_char_span, buffers, &segments);
    if (count < 0) {
        return -1;
    }
    memset(row, 0, SCAN_FIELDS * sizeof(int64_t));
    row[0] = count;
    memcpy(buffers->words, buffers->hashes, (size_t)count * sizeof(uint64_t));

    size_t slot_count = 16;
    while (slot_count < 2 * (size_t)count) {
        slot_count *= 2;
    }
    if (slot_count > buffers->slot_count) {
        uint64_t *slots = PyMem_Realloc(buffers->slots, slot_count * sizeof(uint64_t));
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        buffers->slots = slots;
        buffers->slot_count = slot_count;
    }

    /* An n-gram hash combines the hashes of its words. When all n-grams of a text are distinct,
     * so are its (n + 1)-grams, and counting them is skipped. */
    uint64_t *keys = buffers->hashes;
    int all_distinct = 0;
    for (Py_ssize_t n = 1; n <= 4; n++) {
        Py_ssize_t total = count - n + 1;
        if (total <= 0) {
            break;
        }
        if (n > 1) {
            for (Py_ssize_t index = 0; index < total; index++) {
                keys[index] = keys[index] * NGRAM_MULTIPLIER + buffers->words[index + n - 1];
            }
        }
        row[n] = all_distinct ? total : count_distinct(keys, total, buffers->slots, slot_count);
        all_distinct = row[n] == total;
    }

    /* A word loop repeats a 4-gram one period later, so only texts that repeat one are searched. */
    Py_ssize_t best[3] = {0, 0, 0};
    const uint64_t *words = buffers->words;
    if (count >= 4 && row[4] < count - 3) {
        LONGEST_PERIODIC_RUN(WORD_AT, 0, count, rules->max_word_period, rules->min_word_repeats, best);
    }
    if (best[0] > 0 && best[2] >= rules->min_word_span && count >= rules->min_word_span) {
        row[5] = best[0];
        row[6] = best[1];
        row[7] = best[2];
        return 0;
    }

    /* A character loop lies inside one word or one run of spaces (see _batched_char_loops). */
    best[0] = best[1] = best[2] = 0;
    for (Py_ssize_t segment = 0; segment < segments; segment++) {
        Py_ssize_t first = buffers->segments[2 * segment];
        Py_ssize_t last = first + buffers->segments[2 * segment + 1];
        LONGEST_PERIODIC_RUN(CHAR_AT, first, last, rules->max_char_period, rules->min_char_repeats, best);
    }
    row[8] = best[0];
    row[9] = best[1];
    row[10] = best[2];
    return 0;
}

static int
scan_any_kind(PyObject *text, const Rules *rules, Buffers *buffers, int64_t *row)
{
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    /* A constant kind lets the compiler specialise the inlined scan for each width. */
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        return scan_text(text, PyUnicode_1BYTE_KIND, data, length, rules, buffers, row);
    case PyUnicode_2BYTE_KIND:
        return scan_text(text, PyUnicode_2BYTE_KIND, data, length, rules, buffers, row);
    default:
        return scan_text(text, PyUnicode_4BYTE_KIND, data, length, rules, buffers, row);
    }
}

static PyObject *
scan_texts(PyObject *module, PyObject *args)
{
    PyObject *texts;
    Rules rules;
    if (!PyArg_ParseTuple(args, "Onnnnnn:scan_texts", &texts, &rules.max_word_period,
                          &rules.min_word_repeats, &rules.min_word_span, &rules.max_char_period,
                          &rules.min_char_repeats, &rules.min_char_span)) {
        return NULL;
    }
    if (rules.min_char_span < 1 || rules.min_word_repeats < 1 || rules.min_char_repeats < 1) {
        PyErr_SetString(PyExc_ValueError, "min_char_span and the minimum repeats must be at least 1");
        return NULL;
    }
    PyObject *sequence = PySequence_Fast(texts, "scan_texts() expects a sequence of str");
    if (sequence == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    if ((size_t)count > PY_SSIZE_T_MAX / (SCAN_FIELDS * sizeof(int64_t))) {
        Py_DECREF(sequence);
        return PyErr_NoMemory();
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, count * SCAN_FIELDS * (Py_ssize_t)sizeof(int64_t));
    if (result == NULL) {
        Py_DECREF(sequence);
        return NULL;
    }
    int64_t *rows = (int64_t *)PyBytes_AS_STRING(result);
    Buffers buffers = {0};
    PyObject **items = PySequence_Fast_ITEMS(sequence);
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *text = items[index];
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "scan_texts() expects str items, not %.100s at index %zd",
                         Py_TYPE(text)->tp_name, index);
            goto error;
        }
#if PY_VERSION_HEX < 0x030C0000
        /* Python 3.12 removed the legacy strings that need this call, and deprecated it. */
        if (PyUnicode_READY(text) < 0) {
            goto error;
        }
#endif
        if (scan_any_kind(text, &rules, &buffers, rows + index * SCAN_FIELDS) < 0) {
            goto error;
        }
    }
    PyMem_Free(buffers.hashes);
    PyMem_Free(buffers.words);
    PyMem_Free(buffers.segments);
    PyMem_Free(buffers.slots);
    Py_DECREF(sequence);
    return result;

error:
    PyMem_Free(buffers.hashes);
    PyMem_Free(buffers.words);
    PyMem_Free(buffers.segments);
    PyMem_Free(buffers.slots);
    Py_DECREF(sequence);
    Py_DECREF(result);
    return NULL;
}

static PyMethodDef loopscan_methods[] = {
    {"scan_texts", scan_texts, METH_VARARGS,
     "scan_texts(texts, max_word_period, min_word_repeats, min_word_span, max_char_period,\n"
     "           min_char_repeats, min_char_span) -> bytes\n\n"
     "Return 11 native int64 values per text: words, distinct n-grams for n = 1..4, and the\n"
     "(period, start, covered) of the word loop and of the character loop, period 0 for none."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef loopscan_module = {
    PyModuleDef_HEAD_INIT, "_loopscan", "Compiled scan behind loops.analyse_texts.", -1, loopscan_methods,
};

PyMODINIT_FUNC
PyInit__loopscan(void)
{
    return PyModule_Create(&loopscan_module);
}
