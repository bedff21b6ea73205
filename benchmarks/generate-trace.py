#!/usr/bin/env python3
"""Writes a synthetic pgtrace trace of N events with a realistic mix, for the benchmark.

The mix: tasks on 4 cpus taking nested spinlocks (a few hundred classes, in a consistent
order so the analysis stays quiet), spin_lock_irqsave sections, hardirq handlers with
their own locks, softirqs, pgd_alloc/populate/list work under pgd_lock, lockless
get_user_pages_fast walks with irqs off, and RCU table frees. Deterministic for a seed.

    benchmarks/generate-trace.py 4000000 > /tmp/4m.xml
"""
import random
import sys


def main():
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(__doc__.strip() + "\n\n    usage: generate-trace.py [EVENTS [SEED]] > trace.xml")
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    out = sys.stdout
    write = out.write
    cpus = 4
    # Lock classes in a global order: a task takes them in increasing rank.
    classes = [f"subsys{i // 16}->lock{i % 16}" for i in range(320)]
    irq_classes = [f"irqchip{i}->lock" for i in range(8)]
    write('<?xml version="1.0" encoding="UTF-8"?>\n')
    write(f'<trace version="1" source="benchmarks/generate-trace.py {count} {seed}" cpus="{cpus}">\n')
    write('  <classes>\n')
    write('    <class name="pgd_lock" type="spinlock"/>\n')
    write('    <class name="mm->mmap_sem" type="rwsem"/>\n')
    write('  </classes>\n  <events>\n')
    emitted = 0
    t = 0
    pgd_serial = 0
    table_serial = 0

    def ev(text):
        nonlocal emitted, t
        t += rng.randint(10, 200)
        write(f'    <{text} t="{t}"/>\n')
        emitted += 1

    while emitted < count:
        cpu = rng.randrange(cpus)
        task = f"task{rng.randrange(64)}"
        kind = rng.random()
        if kind < 0.55:
            # Nested spinlocks in rank order, sometimes irqsave on the outer one.
            # Real lock graphs are sparse: a class is followed by a few others of its own
            # subsystem, or by a lock of the next subsystem down.
            depth = rng.randint(1, 4)
            first = rng.randrange(len(classes))
            picks = [first]
            while len(picks) < depth:
                step = rng.choice((1, 2, 3, 16))
                if picks[-1] + step >= len(classes):
                    break
                picks.append(picks[-1] + step)
            instances = [f"{index:x}:{rng.randrange(4)}" for index in picks]
            irqsave = rng.random() < 0.3
            for n, index in enumerate(picks):
                extra = ' irq="save"' if irqsave and n == 0 else ""
                ev(f'acquire cpu="{cpu}" task="{task}" lock="{classes[index]}" instance="{instances[n]}"{extra} at="kernel/sub{index // 16}.c:{100 + index}" fn="sub{index // 16}_work"')
            for n, index in reversed(list(enumerate(picks))):
                extra = ' irq="restore"' if irqsave and n == 0 else ""
                ev(f'release cpu="{cpu}" task="{task}" lock="{classes[index]}" instance="{instances[n]}"{extra}')
        elif kind < 0.70:
            # A hardirq handler with its own lock, taken only in irq context.
            lock = rng.choice(irq_classes)
            ev(f'hardirq-enter cpu="{cpu}" irq="{rng.randrange(32)}"')
            ev(f'acquire cpu="{cpu}" lock="{lock}" at="drivers/irqchip/chip.c:42" fn="chip_handle_irq"')
            ev(f'release cpu="{cpu}" lock="{lock}"')
            ev(f'hardirq-exit cpu="{cpu}"')
        elif kind < 0.78:
            ev(f'softirq-enter cpu="{cpu}" vec="NET_RX"')
            index = rng.randrange(len(classes))
            ev(f'acquire cpu="{cpu}" lock="net{index % 8}->lock" at="net/core/dev.c:5000" fn="net_rx_action"')
            ev(f'release cpu="{cpu}" lock="net{index % 8}->lock"')
            ev(f'softirq-exit cpu="{cpu}"')
        elif kind < 0.88:
            # pgd_alloc with Jeremy's order: populate and list under pgd_lock.
            # Addresses come back from the allocator: a pool, as in a real trace.
            pgd_serial += 1
            pgd = f"pgd:{0xf6c00000 + (pgd_serial % 512) * 0x1000:x}"
            ev(f'pgd-alloc cpu="{cpu}" task="{task}" pgd="{pgd}" fn="pgd_alloc"')
            ev(f'might-sleep cpu="{cpu}" task="{task}" fn="pmd_alloc_one"')
            ev(f'acquire cpu="{cpu}" task="{task}" lock="pgd_lock" irq="save" fn="pgd_alloc"')
            for index in range(4):
                ev(f'pgd-populate cpu="{cpu}" task="{task}" pgd="{pgd}" index="{index}"')
            ev(f'pgd-list-add cpu="{cpu}" task="{task}" pgd="{pgd}"')
            ev(f'release cpu="{cpu}" task="{task}" lock="pgd_lock" irq="restore"')
            # and its teardown, also under the lock
            ev(f'acquire cpu="{cpu}" task="{task}" lock="pgd_lock" irq="save" fn="pgd_free"')
            ev(f'pgd-list-del cpu="{cpu}" task="{task}" pgd="{pgd}"')
            for index in range(4):
                ev(f'pgd-clear cpu="{cpu}" task="{task}" pgd="{pgd}" index="{index}"')
            ev(f'release cpu="{cpu}" task="{task}" lock="pgd_lock" irq="restore"')
            ev(f'pgd-free cpu="{cpu}" task="{task}" pgd="{pgd}"')
        elif kind < 0.95:
            # get_user_pages_fast: a lockless walk with irqs off.
            # Walks reach live tables (a freed one would be a use-after-free).
            table = f"pte:{0x80000 + rng.randrange(4096):x}"
            ev(f'irq-disable cpu="{cpu}" task="{task}" fn="get_user_pages_fast"')
            ev(f'lockless-walk-begin cpu="{cpu}" task="{task}"')
            ev(f'walk-access cpu="{cpu}" task="{task}" table="{table}"')
            ev(f'lockless-walk-end cpu="{cpu}" task="{task}"')
            ev(f'irq-enable cpu="{cpu}" task="{task}"')
        else:
            # An RCU table free.
            table_serial += 1
            table = f"pte:{0x37000 + (table_serial % 4096):x}"
            ev(f'acquire cpu="{cpu}" task="{task}" lock="mm->mmap_sem" mode="read" fn="free_pgtables"')
            ev(f'table-unlink cpu="{cpu}" task="{task}" table="{table}" fn="free_pte_range"')
            ev(f'release cpu="{cpu}" task="{task}" lock="mm->mmap_sem"')
            ev(f'rcu-grace-period cpu="{cpu}"')
            ev(f'table-free cpu="{cpu}" table="{table}" fn="tlb_remove_table_rcu"')
    write('  </events>\n</trace>\n')


if __name__ == "__main__":
    main()
