#ifndef PGTRACE_CLIBXML2_SHIM_H
#define PGTRACE_CLIBXML2_SHIM_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
/* glibc has memrchr, but declares it only under _GNU_SOURCE, which must not leak into the
   other modules that include the system headers. */
extern void *memrchr(const void *s, int c, size_t n);

/* libxml2 may be built with ICU, whose headers clash with the copy inside Foundation.
   pgtrace never touches libxml2's ICU converters, so hide them. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlreader.h>

/* Swift 6 rejects libxml2's global `xmlFree` function-pointer variable
   (shared mutable state); these wrappers call it from C. */
static inline void pgtrace_xml_free(void *pointer) { xmlFree(pointer); }

/* libxml2 prints what it cannot tie to a parser (an encoding's failed conversion: "encoding
   error : input conversion failed due to input error, bytes 0xFF 0xFF 0xFE") through its
   generic handler, to standard error, with no place, in pieces; the parse then fails with
   another cause, or none (the document just ends). The calling thread's generic handler
   (libxml2's are per thread) keeps the first such text instead, for pgtrace's located error
   to say. */
struct pgtrace_xml_generic { char text[512]; int done; };
/* The calling thread's (a variable in a function: Swift emits none declared in a header). */
static inline struct pgtrace_xml_generic *pgtrace_xml_generic_kept(void) {
    static __thread struct pgtrace_xml_generic kept;
    return &kept;
}
static void pgtrace_xml_keep(void *context, const char *message, ...) {
    (void)context;
    struct pgtrace_xml_generic *kept = pgtrace_xml_generic_kept();
    if (kept->done) return;
    size_t used = strlen(kept->text);
    if (used + 1 >= sizeof kept->text) return;
    va_list arguments;
    va_start(arguments, message);
    vsnprintf(kept->text + used, sizeof kept->text - used, message, arguments);
    va_end(arguments);
    /* A message ends with its newline: what follows is another's. */
    char *newline = strchr(kept->text, '\n');
    if (newline) {
        *newline = 0;
        kept->done = 1;
    }
}
/* Keeps the calling thread's generic messages from now on, none kept yet. */
static inline void pgtrace_xml_keep_generic_errors(void) {
    pgtrace_xml_generic_kept()->text[0] = 0;
    pgtrace_xml_generic_kept()->done = 0;
    xmlSetGenericErrorFunc(NULL, pgtrace_xml_keep);
}
/* The first generic message kept ("" for none). */
static inline const char *pgtrace_xml_generic_error(void) { return pgtrace_xml_generic_kept()->text; }

/* The parser's current position, for locating SAX events. */
static inline int pgtrace_ctxt_line(xmlParserCtxtPtr ctxt) {
    return (ctxt != NULL && ctxt->input != NULL) ? ctxt->input->line : 0;
}
static inline int pgtrace_ctxt_column(xmlParserCtxtPtr ctxt) {
    return (ctxt != NULL && ctxt->input != NULL) ? ctxt->input->col : 0;
}

/* The characters in [from, to), as libxml2 counts columns: UTF-8 lead bytes, not bytes. */
static inline int pgtrace_characters(const xmlChar *from, const xmlChar *to) {
    int characters = 0;
    for (const xmlChar *q = from; q < to; q++) if ((*q & 0xC0) != 0x80) characters++;
    return characters;
}

/* The newlines in [from, to). */
static inline int pgtrace_newlines(const xmlChar *from, const xmlChar *to) {
    int newlines = 0;
    for (const xmlChar *q = from; q < to; q++) if (*q == '\n') newlines++;
    return newlines;
}

/* The start of the line that holds `at`, not before `base`. */
static inline const xmlChar *pgtrace_line_start(const xmlChar *base, const xmlChar *at) {
    while (at > base && *(at - 1) != '\n') at--;
    return at;
}

/* Where the start tag being reported began. During startElementNs the parser stands just
   past the attributes; the tag (which cannot hold a raw '<') is still in the input buffer,
   so step back to its '<' and report that line and column (1-based). Where `tag` is not
   NULL, it is set to the tag's '<' in the buffer (the tag's bytes run from there to the
   parser's place), or to NULL where the buffer does not hold it. */
static inline void pgtrace_tag_start(xmlParserCtxtPtr ctxt, int *line, int *column, const xmlChar **tag) {
    *line = pgtrace_ctxt_line(ctxt);
    *column = pgtrace_ctxt_column(ctxt);
    if (tag != NULL) *tag = NULL;
    if (ctxt == NULL || ctxt->input == NULL || ctxt->input->cur == NULL || ctxt->input->base == NULL)
        return;
    const xmlChar *base = ctxt->input->base, *cur = ctxt->input->cur;
    if (cur <= base) return;
    const xmlChar *p = memrchr(base, '<', (size_t)(cur - base));
    if (p == NULL) return;
    if (tag != NULL) *tag = p;
    size_t length = (size_t)(cur - p);
    /* libxml2 counts columns in characters: count UTF-8 lead bytes, not bytes (the common
       all-ASCII tag is checked eight bytes at a time, its last eight bytes read again for
       the tail). */
    if (memchr(p, '\n', length) == NULL) {
        int characters = (int)length;
        unsigned long long bits = 0, word;
        size_t i = 0;
        for (; i + 8 <= length; i += 8) {
            memcpy(&word, p + i, 8);
            bits |= word;
        }
        if (length >= 8) {
            memcpy(&word, p + length - 8, 8);
            bits |= word;
        } else {
            for (; i < length; i++) bits |= p[i];
        }
        if (bits & 0x8080808080808080ULL) characters = pgtrace_characters(p, cur);
        *column = *column - characters;
        if (*column < 1) *column = 1;
        return;
    }
    *line -= pgtrace_newlines(p, cur);
    *column = pgtrace_characters(pgtrace_line_start(base, p), p) + 1;
}

/* A place in the input, as a callback saw it: the input, the bytes it consumed before its
   buffer plus the offset in the buffer, and libxml2's line and column there (`input` NULL:
   no place). */
typedef struct {
    const void *input;
    unsigned long offset;
    int line;
    int column;
} pgtrace_place;

/* Where the markup after a text begins, when the parser stands on it as it hands the text
   over: the push parser passes the blanks before a tag to `characters` in its own buffer,
   standing on the '<' that ends them, its line and column there (a text that begins with a
   blank; one that does not it hands over before it moves past it, as `pgtrace_text_start`
   says). No place when the parser does not stand at the text's end on a '<' (a text copied,
   a text begun by another character, or one not ended by markup). */
static inline pgtrace_place pgtrace_markup_after_text(xmlParserCtxtPtr ctxt, const xmlChar *text, size_t length) {
    pgtrace_place place = {NULL, 0, 0, 0};
    if (ctxt == NULL || ctxt->input == NULL || ctxt->input->cur == NULL || ctxt->input->base == NULL
        || text == NULL) return place;
    xmlParserInputPtr in = ctxt->input;
    if ((uintptr_t)text + length != (uintptr_t)in->cur || *in->cur != '<') return place;
    place.input = in;
    place.offset = in->consumed + (unsigned long)(in->cur - in->base);
    place.line = in->line;
    place.column = in->col;
    return place;
}

/* `pgtrace_tag_start` for a tag that may follow a text whose end `after` gave
   (`pgtrace_markup_after_text`). Nothing the parser reports comes between a start tag's '<'
   and its startElementNs, so when `after` is a start tag's '<' in the buffer the parser reads,
   it is this tag's; a comment, a processing instruction or an end tag there shows in the
   byte after the '<'. Then its line and column are libxml2's own at the '<', which are right
   where counting back is not: a tag across lines whose line began before the buffer (a line
   longer than a chunk, or a document's first line after a BOM or an encoding's switch).
   Else the tag is found as `pgtrace_tag_start` finds it. */
static inline void pgtrace_tag_start_after_text(xmlParserCtxtPtr ctxt, pgtrace_place after, int *line, int *column,
                                                const xmlChar **tag) {
    if (after.input != NULL && ctxt != NULL && ctxt->input == after.input && ctxt->input->cur != NULL
        && ctxt->input->base != NULL && after.offset >= ctxt->input->consumed) {
        const xmlChar *base = ctxt->input->base, *cur = ctxt->input->cur;
        unsigned long offset = after.offset - ctxt->input->consumed;
        if (offset + 1 < (unsigned long)(cur - base)) {
            const xmlChar *p = base + offset;
            if (p[0] == '<' && p[1] != '/' && p[1] != '!' && p[1] != '?') {
                *line = after.line;
                *column = after.column;
                if (tag != NULL) *tag = p;
                return;
            }
        }
    }
    pgtrace_tag_start(ctxt, line, column, tag);
}

/* Where the byte `offset` of a text handed to `characters` or `cdataBlock` is, if the parser's
   buffer holds the text as given: 1 and its line and column (1-based, in characters), else 0
   (the caller counts back from the parser's place). The push parser calls `characters` with
   the buffer itself, its line and column already at the text's end though it moves past the
   text only after the call, or with a copy of the bytes just before where it stands (which
   an entity, a character reference or a CRLF line end makes other bytes: then 0); it calls
   `cdataBlock` (`isCDATA`) with the section's text in the buffer, standing, line too, at the
   section's start (its column there counts a CDATA section's bytes, not its characters).
   The column is counted from the start of the line in the buffer: after a newline, or the
   buffer's start where that is the document's (nothing consumed, no encoding switched, a
   UTF-8 BOM skipped); else from the parser's column where the text is on its line; else
   (a line begun in a chunk that is gone) 0. */
static inline int pgtrace_text_start(xmlParserCtxtPtr ctxt, const xmlChar *text, size_t length, size_t offset,
                                     int isCDATA, int *line, int *column) {
    if (ctxt == NULL || ctxt->input == NULL || ctxt->input->cur == NULL || ctxt->input->base == NULL
        || ctxt->input->end == NULL || text == NULL || offset >= length) return 0;
    xmlParserInputPtr input = ctxt->input;
    const xmlChar *base = input->base, *cur = input->cur, *end = input->end;
    uintptr_t given = (uintptr_t)text;
    int inBuffer = given >= (uintptr_t)base && given <= (uintptr_t)end && length <= (size_t)(end - text);
    const xmlChar *start;
    if (isCDATA) {
        if (!inBuffer || text < cur) return 0;
        start = text;
    } else if (inBuffer) {
        start = text;
    } else if ((size_t)(cur - base) >= length && memcmp(cur - length, text, length) == 0) {
        start = cur - length;
    } else {
        return 0;
    }
    /* The parser's place (line and column) and the span between it and the character. */
    const xmlChar *at = start + offset;
    const xmlChar *from = isCDATA ? cur : at, *to = isCDATA ? at : start + length;
    int newlines = pgtrace_newlines(from, to), sign = isCDATA ? 1 : -1;
    *line = input->line + sign * newlines;
    const xmlChar *lineStart = pgtrace_line_start(base, at);
    int documentStart = lineStart == base && input->consumed == 0
        && (input->buf == NULL || input->buf->rawconsumed == 0);
    if (lineStart > base || documentStart) {
        if (lineStart == base && at - base >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF) lineStart += 3;
        *column = pgtrace_characters(lineStart, at) + 1;
    } else if (newlines == 0) {
        *column = input->col + sign * pgtrace_characters(from, to);
    } else {
        return 0;
    }
    return *column >= 1 && *line >= 1;
}

#endif
