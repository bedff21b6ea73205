#ifndef PGTRACE_CLIBTRACECMD_SHIM_H
#define PGTRACE_CLIBTRACECMD_SHIM_H

/* trace-cmd's reading library (libtracecmd) and the event formats it carries
   (libtraceevent), as Debian's libtracecmd-dev and libtraceevent-dev install them. Their
   headers use cpu_set_t, which glibc declares only under _GNU_SOURCE. */
#define _GNU_SOURCE 1
#include <sched.h>
#include <trace-cmd.h>
#include <event-parse.h>

/* The common fields every record carries, read by name from the file's own formats. */
static inline unsigned long long pgtrace_tep_read_field(struct tep_format_field *field, const void *data, int *ok) {
    unsigned long long value = 0;
    *ok = tep_read_number_field(field, data, &value) == 0;
    return value;
}

/* A dynamic (__string, __bitmask, __dynamic_array) field's bytes within the record: the
   field holds offset (low 16 bits) and length (high 16 bits); relative ones (__rel_loc)
   count from the end of the field. */
static inline const void *pgtrace_tep_dynamic(struct tep_format_field *field, const void *data, int size, int *length) {
    if (!(field->flags & TEP_FIELD_IS_DYNAMIC) || field->size < 4 || field->offset + 4 > size) {
        *length = field->size;
        return field->offset + field->size <= size ? (const char *)data + field->offset : 0;
    }
    unsigned int word;
    memcpy(&word, (const char *)data + field->offset, 4);
    unsigned int offset = word & 0xffff;
    unsigned int len = word >> 16;
    if (field->flags & TEP_FIELD_IS_RELATIVE) offset += field->offset + field->size;
    if (offset + len > (unsigned int)size) { *length = 0; return 0; }
    *length = (int)len;
    return (const char *)data + offset;
}

#endif
