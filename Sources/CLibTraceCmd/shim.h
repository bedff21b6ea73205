#ifndef PGTRACE_CLIBTRACECMD_SHIM_H
#define PGTRACE_CLIBTRACECMD_SHIM_H

/* trace-cmd's reading library (libtracecmd) and the event formats it carries
   (libtraceevent), as Debian's libtracecmd-dev and libtraceevent-dev install them. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

/* In a child about to run libtraceevent: its output goes nowhere, and the signals that end
   it are the system's own (not handlers or a mask inherited from pgtrace, or from whatever
   started it: an ignored SIGALRM never ended a child that hung). */
static inline void pgtrace_child_setup(unsigned seconds) {
    int nowhere = open("/dev/null", O_WRONLY);
    if (nowhere >= 0) {
        dup2(nowhere, 1);
        dup2(nowhere, 2);
    } else {
        close(1);
        close(2);
    }
    int fatal[] = { SIGALRM, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE };
    sigset_t unblock;
    sigemptyset(&unblock);
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        signal(fatal[i], SIG_DFL);
        sigaddset(&unblock, fatal[i]);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, 0);
    alarm(seconds);
}

/* Waits for `child`, with SIGCHLD at its default while pgtrace waits (ignored, the kernel
   would reap the child itself, and its end would go unseen): the signal that ended it, 0, or
   -1 if it cannot be known. */
static inline int pgtrace_wait_child(pid_t child, struct sigaction *previous) {
    int status = 0;
    int result = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) { result = -1; break; }
    }
    sigaction(SIGCHLD, previous, 0);
    if (result < 0) return -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static inline pid_t pgtrace_fork_child(struct sigaction *previous) {
    struct sigaction initial;
    memset(&initial, 0, sizeof initial);
    initial.sa_handler = SIG_DFL;
    sigemptyset(&initial.sa_mask);
    sigaction(SIGCHLD, &initial, previous);
    pid_t child = fork();
    if (child < 0) sigaction(SIGCHLD, previous, 0);
    return child;
}

/* Opens `file`'s headers with libtracecmd as pgtrace is about to, in a child process, whose
   output goes nowhere: libtraceevent parses every event format as the file opens, and some
   corrupt formats crash it (a stray brace in a print fmt) that pgtrace cannot check for
   without parsing them as it does. Only C runs in the child, which ends with _exit. Returns
   0 when the child ended (opened or not), the signal that ended it (SIGALRM: still parsing
   after `seconds`), or -1 when there is no child (the caller opens the file as it would). */
static inline int pgtrace_tracecmd_open_head_apart(const char *file, int flags, unsigned seconds) {
    struct sigaction previous;
    pid_t child = pgtrace_fork_child(&previous);
    if (child < 0) return -1;
    if (child == 0) {
        pgtrace_child_setup(seconds);
        _exit(tracecmd_open_head(file, flags) ? 0 : 1);
    }
    return pgtrace_wait_child(child, &previous);
}

/* Parses `count` event formats (format i: `size[i]` bytes at `texts + starts[i]`, of the
   system whose NUL-terminated name is at `names + systems[i]`) and the ring buffer's
   header_page (first, or last as libtracecmd reads a version 7 file), in the order given, as
   libtracecmd does when it opens a file, in a child process whose output goes nowhere: some
   corrupt formats crash libtraceevent. Only C runs in the child, which ends
   with _exit. Returns 0 when the child ended, the signal that ended it (SIGALRM: still
   parsing after `seconds`), or -1 when there is no child. `*reached` is what the child was
   parsing when it ended: format i (in the order given), -1 the header_page, -2 neither (or
   not known), told through a page the two processes share. */
static inline int pgtrace_parse_formats_apart(const unsigned char *texts, const long long *starts, const long long *sizes,
                                              const unsigned char *names, const long long *systems, int count,
                                              const unsigned char *headerPage, long long headerPageSize, int headerPageLast,
                                              int bigEndian, int longSize, unsigned seconds, int *reached) {
    volatile int *shared = mmap(0, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) shared = 0;
    *reached = -2;
    if (shared) *shared = -2;
    struct sigaction previous;
    pid_t child = pgtrace_fork_child(&previous);
    if (child < 0) {
        if (shared) munmap((void *)shared, sizeof(int));
        return -1;
    }
    if (child == 0) {
        pgtrace_child_setup(seconds);
        struct tep_handle *tep = tep_alloc();
        if (!tep) _exit(0);
        int one = 1;
        tep_set_file_bigendian(tep, bigEndian ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
        tep_set_local_bigendian(tep, *(char *)&one ? TEP_LITTLE_ENDIAN : TEP_BIG_ENDIAN);
        tep_set_long_size(tep, longSize);
        if (headerPage && !headerPageLast) {
            if (shared) *shared = -1;
            tep_parse_header_page(tep, (char *)headerPage, (unsigned long)headerPageSize, longSize);
        }
        for (int i = 0; i < count; i++) {
            const char *system = systems[i] >= 0 ? (const char *)names + systems[i] : "ftrace";
            if (shared) *shared = i;
            tep_parse_event(tep, (const char *)texts + starts[i], (unsigned long)sizes[i], system);
        }
        if (headerPage && headerPageLast) {
            if (shared) *shared = -1;
            tep_parse_header_page(tep, (char *)headerPage, (unsigned long)headerPageSize, longSize);
        }
        _exit(0);
    }
    int ended = pgtrace_wait_child(child, &previous);
    if (shared) {
        *reached = *shared;
        munmap((void *)shared, sizeof(int));
    }
    return ended;
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
