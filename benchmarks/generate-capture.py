#!/usr/bin/env python3
"""Writes a synthetic ftrace capture (the `trace` file of a kernel with lockdep's lock events
and preemptirq's irq events) of about SIZE megabytes, or the same events as JSON lines for
scripts/write-trace-dat.py, for the benchmark (benchmarks/run.py --captures).

    python3 benchmarks/generate-capture.py 100 > capture.txt        # ftrace text
    python3 benchmarks/generate-capture.py 100 --json > events.jsonl

Eight cpus run tasks that take nested locks in one consistent order (no finding), with irqs
disabled around some sections, hardirqs and softirqs taking their own locks, and context
switches. Deterministic: the same size gives the same bytes.
"""
import json
import random
import sys

LOCKS = ["&mm->mmap_lock", "&rq->__lock", "&p->pi_lock", "tasklist_lock", "&sb->s_type->i_mutex_key",
         "&(&zone->lock)->rlock", "&dentry->d_lock", "&inode->i_lock", "&n->list_lock", "pgd_lock"]
IRQ_LOCKS = ["&desc->lock", "&port_lock_key"]
SOFTIRQ_LOCKS = ["&base->lock", "&sk->sk_lock.slock"]
CALLERS = ["_raw_spin_lock_irqsave+0x4d/0x60", "_raw_spin_unlock_irqrestore+0x2e/0x50"]


class Capture:
    def __init__(self, json_out):
        self.json = json_out
        self.time = 100_000_000_000
        self.size = 0

    def emit(self, cpu, task, pid, flags, event, info, fields, common):
        self.time += 137
        seconds, rest = divmod(self.time, 1_000_000_000)
        line = f"{task:>16}-{pid:<7} [{cpu:03}] {flags} {seconds:5}.{rest // 1000:06}: {event}: {info}"
        # The size counts the text, so that both outputs hold the same events.
        self.size += len(line) + 1
        if self.json:
            line = json.dumps({"cpu": cpu, "ts": self.time, "pid": pid, "comm": task, "flags": common[0],
                               "preempt": common[1], "event": event, "fields": fields}, separators=(",", ":"))
        sys.stdout.write(line + "\n")


def flags_text(irqs_off, context, depth):
    return ("d" if irqs_off else ".") + "." + context + (str(depth) if depth else ".") + "."


def common(irqs_off, context, depth):
    value = (0x01 if irqs_off else 0) | (0x08 if context == "h" else 0) | (0x10 if context == "s" else 0)
    return value, depth


def main():
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(__doc__.strip())
        return
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 100
    json_out = "--json" in sys.argv
    rng = random.Random(42)
    capture = Capture(json_out)
    if not json_out:
        sys.stdout.write("# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:8\n#\n")
    addresses = {name: 0xffff888000000000 + 0x1000 * index for index, name in enumerate(LOCKS + IRQ_LOCKS + SOFTIRQ_LOCKS)}
    tasks = [(f"worker{n}", 1000 + n) for n in range(64)]
    limit = megabytes * 1_000_000

    def lock(cpu, task, pid, irqs_off, context, depth, name, acquire):
        address = addresses[name]
        event = "lock_acquire" if acquire else "lock_release"
        info = f"{address:016x} {name}"
        capture.emit(cpu, task, pid, flags_text(irqs_off, context, depth), event, info,
                     {"lockdep_addr": address, "name": name, "flags": 0} if acquire else
                     {"lockdep_addr": address, "name": name}, common(irqs_off, context, depth))

    while capture.size < limit:
        cpu = rng.randrange(8)
        task, pid = tasks[rng.randrange(len(tasks))]
        # A nested section in the global order, sometimes with irqs off.
        start = rng.randrange(len(LOCKS) - 3)
        held = sorted(rng.sample(range(start, len(LOCKS)), 3))
        irqs_off = rng.random() < 0.3
        if irqs_off:
            capture.emit(cpu, task, pid, flags_text(True, ".", 0), "irq_disable",
                         f"caller={CALLERS[0]} parent=0x0", {"caller_offs": 0, "parent_offs": 0}, common(True, ".", 0))
        for depth, index in enumerate(held, start=1):
            lock(cpu, task, pid, irqs_off, ".", depth, LOCKS[index], True)
        if rng.random() < 0.2:
            # A hardirq taking its own lock, on top of the section.
            capture.emit(cpu, task, pid, flags_text(True, "h", 3), "irq_handler_entry", "irq=30 name=ahci",
                         {"irq": 30, "name": "ahci"}, common(True, "h", 3))
            name = IRQ_LOCKS[rng.randrange(2)]
            lock(cpu, task, pid, True, "h", 4, name, True)
            lock(cpu, task, pid, True, "h", 4, name, False)
            capture.emit(cpu, task, pid, flags_text(True, "h", 3), "irq_handler_exit", "irq=30 ret=handled",
                         {"irq": 30, "ret": 1}, common(True, "h", 3))
        for depth, index in reversed(list(enumerate(held, start=1))):
            lock(cpu, task, pid, irqs_off, ".", depth - 1, LOCKS[index], False)
        if irqs_off:
            capture.emit(cpu, task, pid, flags_text(False, ".", 0), "irq_enable",
                         f"caller={CALLERS[1]} parent=0x0", {"caller_offs": 0, "parent_offs": 0}, common(False, ".", 0))
        if rng.random() < 0.1:
            name = SOFTIRQ_LOCKS[rng.randrange(2)]
            capture.emit(cpu, task, pid, flags_text(False, "s", 1), "softirq_entry", "vec=1 [action=TIMER]",
                         {"vec": 1}, common(False, "s", 1))
            lock(cpu, task, pid, False, "s", 1, name, True)
            lock(cpu, task, pid, False, "s", 1, name, False)
            capture.emit(cpu, task, pid, flags_text(False, "s", 1), "softirq_exit", "vec=1 [action=TIMER]",
                         {"vec": 1}, common(False, "s", 1))


if __name__ == "__main__":
    main()
