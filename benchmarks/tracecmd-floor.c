/* The floor for reading a trace.dat: libtracecmd's own iteration over every record of every
 * cpu in timestamp order, reading each record's pid, flags and type (what pgtrace reads of
 * every record before its fields), and nothing else. benchmarks/captures.py times it beside
 * pgtrace on the same file. Built with: cc -O2 tracecmd-floor.c $(pkg-config --cflags --libs libtracecmd) */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <trace-cmd.h>
#include <event-parse.h>

static long records;
static unsigned long long checksum;

static int visit(struct tracecmd_input *handle, struct tep_record *record, int cpu, void *data) {
    struct tep_handle *tep = data;
    records++;
    checksum += tep_data_pid(tep, record) + tep_data_flags(tep, record) + tep_data_type(tep, record);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tracecmd-floor TRACE.dat\n");
        return 2;
    }
    struct tracecmd_input *handle = tracecmd_open(argv[1], TRACECMD_FL_LOAD_NO_PLUGINS | TRACECMD_FL_LOAD_NO_SYSTEM_PLUGINS);
    if (!handle) {
        fprintf(stderr, "tracecmd-floor: cannot open %s\n", argv[1]);
        return 2;
    }
    tracecmd_iterate_events(handle, NULL, 0, visit, tracecmd_get_tep(handle));
    printf("%ld records (checksum %llu)\n", records, checksum);
    tracecmd_close(handle);
    return 0;
}
