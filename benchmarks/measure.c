/*
 * How the benchmarks run what they measure: a command's wall time, CPU time and peak RSS,
 * from this small process rather than from Python.
 *
 * A child's peak RSS (ru_maxrss, from wait4) is never less than that of the image its exec
 * replaced: Linux records the old image's high-water mark at exec (exec_mmap). A command
 * started from Python, even through vfork, reports at least the interpreter's own 14-20 MB,
 * so a small run's figure was Python's. Forked from this process, of some 1 MB, the figure is
 * the command's own, as GNU time gives it. The time is taken from the fork to the child's end,
 * without Python's own cost of starting a process.
 *
 *     cc -O2 -o measure measure.c
 *     ./measure RESULT command [argument...]
 *
 * The command inherits standard input, output and error. RESULT gets one line: wall seconds,
 * CPU seconds (user + system), peak RSS in KiB, and the command's exit status (128 plus the
 * signal's number if a signal ended it), which is also this program's own.
 *
 * If the thread that started this program ends (the benchmark script killed by SIGTERM,
 * SIGHUP or SIGKILL), this program is killed, and so is the command: a run left going would
 * take a core from every run measured after it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval time) { return (double)time.tv_sec + (double)time.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: measure RESULT command [argument...]\n");
        return 2;
    }
    // The script's end kills this program from here on; an end between the two getppid()
    // calls shows as a new parent.
    pid_t script = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != script) return 2;
    pid_t self = getpid();
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t child = fork();
    if (child < 0) {
        perror("measure: fork");
        return 2;
    }
    if (child == 0) {
        // Kept across the exec: the command goes with this program.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != self) _exit(127);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    struct rusage usage;
    while (wait4(child, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("measure: wait4");
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *result = fopen(argv[1], "w");
    if (result == NULL) {
        perror(argv[1]);
        return 2;
    }
    fprintf(result, "%.6f %.6f %ld %d\n",
            (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9,
            seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss, code);
    if (fclose(result) != 0) {
        perror(argv[1]);
        return 2;
    }
    return code;
}
