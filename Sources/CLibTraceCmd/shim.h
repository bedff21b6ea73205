#ifndef PGTRACE_CLIBTRACECMD_SHIM_H
#define PGTRACE_CLIBTRACECMD_SHIM_H

/* trace-cmd's reading library (libtracecmd) and the event formats it carries
   (libtraceevent), as Debian's libtracecmd-dev and libtraceevent-dev install them. */
#include <stdio.h>
#include <string.h>
#include <event-parse.h>

/* trace-cmd.h needs cpu_set_t, which glibc declares only under _GNU_SOURCE; defining that
   here would give this module's copies of the system headers (sys/select.h, regex.h) other
   definitions than Swift's Glibc module has, which clang refuses in a clean build. So the
   few libtracecmd functions pgtrace calls are declared here as trace-cmd.h (3.1) declares
   them, the cpu set (always NULL here) as an opaque pointer, which has the same ABI. */
struct tracecmd_input;
struct tracecmd_input *tracecmd_open_head(const char *file, int flags);
int tracecmd_init_data(struct tracecmd_input *handle);
void tracecmd_close(struct tracecmd_input *handle);
struct tep_handle *tracecmd_get_tep(struct tracecmd_input *handle);
int tracecmd_iterate_events(struct tracecmd_input *handle, void *cpus, int cpu_size,
                            int (*callback)(struct tracecmd_input *handle, struct tep_record *, int, void *),
                            void *callback_data);
void tracecmd_set_loglevel(enum tep_loglevel level);

/* libtracecmd 3.1 prints some complaints with printf, to standard output, whatever its log
   level ("File possibly truncated. Need at least ..."): glibc's stdout is a variable, which
   pgtrace points elsewhere while it calls libtracecmd (NULL: at standard error). Returns the
   stream it replaced. */
static inline FILE *pgtrace_set_stdout(FILE *stream) {
    FILE *previous = stdout;
    stdout = stream ? stream : stderr;
    return previous;
}

/* enum tracecmd_open_flags */
enum {
    PGTRACE_TRACECMD_FL_LOAD_NO_PLUGINS = 1 << 0,
    PGTRACE_TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS = 1 << 1,
};

/* A dynamic (__string, __bitmask, __dynamic_array) field's bytes within the record: the
   field holds offset (low 16 bits) and length (high 16 bits); relative ones (__rel_loc)
   count from the end of the field. */
static inline const void *pgtrace_tep_dynamic(struct tep_format_field *field, const void *data, int size, int *length) {
    /* In 64 bits: a corrupt format's offset or size near INT_MAX, or negative, must not wrap
       past the checks (an offset of 2147483640 once read 2 GB past the record). */
    long long offset = field->offset, fieldSize = field->size;
    *length = 0;
    if (offset < 0 || fieldSize < 0 || offset + fieldSize > (long long)size) return 0;
    if (!(field->flags & TEP_FIELD_IS_DYNAMIC) || fieldSize < 4) {
        *length = (int)fieldSize;
        return (const char *)data + offset;
    }
    unsigned int word;
    memcpy(&word, (const char *)data + offset, 4);
    long long start = word & 0xffff;
    long long len = word >> 16;
    if (field->flags & TEP_FIELD_IS_RELATIVE) start += offset + fieldSize;
    if (start + len > (long long)size) return 0;
    *length = (int)len;
    return (const char *)data + start;
}

#endif
