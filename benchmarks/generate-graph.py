#!/usr/bin/env python3
"""Writes a synthetic pgtrace trace (format v1) shaped to stress one part of the lock-order
graph, for benchmarks/graphs.py. Streams to standard output in big chunks; deterministic for
a seed.

    benchmarks/generate-graph.py WORKLOAD EVENTS [--seed N] [--param K=V ...] > trace.xml

EVENTS is a lower bound: the trace ends after the section that reaches it, and a workload
that must show a whole structure (backchain, cycles, ring) writes at least one full pass of
it. Every trace runs tasks on 4 cpus; a task's nested section completes (acquire in rank
order, release in reverse) before its cpu switches task, so only the workloads marked below
produce findings.

Workloads and their parameters (defaults in brackets):

  kernel     The shape of a running kernel's graph. `classes` [8000] classes in one global
             rank order: the lowest 15% sleeping (mutex, 30% rwsem), the rest spinning
             (spinlock, 20% rwlock); `irqsafe` [0.1] of the spinning ones are hardirq-safe.
             Each class gets successors of higher rank, `deps` [50000] in all (about 6 a
             class; 3/4 within `window` [256] ranks, 1/4 anywhere above); an irq-safe class's
             successors are irq-safe classes only, so there is no irq inversion. A section
             walks 1-6 classes along successors (hot starts and hot successors, exponent
             `skew` [3.0]); the first irq-safe class of a task's walk is taken with irq="save"
             (or the whole walk is inside irq-disable/irq-enable), so irq-safe classes are
             only ever taken with hardirqs off, and irq-unsafe ones always with them on.
             rwlock/rwsem classes are taken mode="read" half the time (about 10% of
             acquisitions); a quarter of the classes have instances. `hardirq` [0.08] of the
             sections are hardirq handlers walking irq-safe classes, and `nested` [0.05] of
             the task sections are interrupted by one while irqs are on. `tasks` [512] tasks;
             the 4 cpus' sections are interleaved event by event. With the defaults (seed 1),
             1M events show 8000 classes, about 42k distinct dependencies and 160k distinct
             lock chains; 16M events about 52k dependencies and 1.1M chains. No softirqs.
             `graph` [0]: 0 draws everything from the seed; any other value draws the kernel
             itself (class types, irq-safety, instances, successors) from `graph` and only
             the walks (hot starts, sections) from the seed, so traces of one `graph` and
             different seeds are one kernel's runs: they analyse together, free of findings.
  dense      `classes` [200] classes and `deps` [20000, at most classes*(classes-1)/2] random
             pairs i < j, each taken nested (i then j): one pass over them in random order,
             then random repeats.
  classes    `classes` [10000] classes, sparse: 2 successors each within the next 64 ranks,
             walks of 1-4.
  deps       `deps` [100000] distinct pairs i < j over 2*sqrt(deps) classes (half of all
             pairs), taken nested: one pass, then the pass again.
  chains     `classes` [512] classes, sections of `mindepth`..`maxdepth` [8..16] classes in
             rank order drawn at random: nearly every chain is new.
  depth      `depth` [64] classes held at once (a random ordered sample of `classes` [128]),
             above pgtrace's --max-depth default of 48: one `depth-overflow` finding (every
             acquisition has the same fn=), exit 1, expected.
  tasks      `tasks` [100000] distinct task names taking walks of 1-4 over `classes` [256]
             sparse classes.
  instances  `instances` [4096] instances per class of `classes` [64] sparse classes.
  backchain  A chain A1 -> ... -> An, n = `n` [4000], its edges created from the end back to
             the start (An-1 then An, then An-2 then An-1, ...): each new edge's cycle search
             walks the chain built so far. The same chain again to fill EVENTS (`fresh=1`:
             fresh classes each round instead).
  cycles     `n` [1000] pairs of fresh classes each taken in both orders (A then B, B then
             A): n `circular-dependency` findings, expected; repeated to fill EVENTS.
  ring       One cycle of `n` [1000] classes: A1 -> A2, ..., An-1 -> An in order, then
             An -> A1: one `circular-dependency` finding, expected; repeated to fill EVENTS.

  pinwalk    Seed 004's Xen pin walk of `pages` [256] page-table pages, repeated over 8
             mms: under the mm's page_table_lock, each pte page's ptlock taken (nest=) and
             held, the page made read-only and pinned, then the pgd; the ptlocks released at
             the end of the batch; then the converse unpin walk. Clean, but for one counted
             `depth-overflow` where `pages` + 1 passes --max-depth (48), expected.
  pending    Seed 001's table frees with `pending` [100] tables unlinked and not yet freed:
             each step unlinks a table, flushes the TLB by IPI and waits (targets "others"
             or the list of the other cpus, in turn), and frees the table unlinked `pending`
             steps before; lockless walks with irqs off on the other cpus between. Clean.
  takeall    mm_take_all_locks() and mm_drop_all_locks() (mmu_notifier_register, KVM):
             under mm_all_locks_mutex, `locks` [4096] anon_vma locks (one a vma) taken with
             nest= and held, then released in the order they were taken (first in, first
             out), as the kernel walks the vmas again; repeated over 4 mms. Clean, but for
             one counted `depth-overflow` where `locks` + 1 passes --max-depth (48),
             expected (lockdep folds the run into one entry and stays below its limit).
"""
import argparse
import itertools
import math
import random
import sys

CPUS = 4
STEP = 40  # ns between two events of a section
GAP = 300  # ns between sections
CHUNK = 1 << 16  # lines per write

# Depth of a kernel walk: 1..6, mostly short.
KERNEL_DEPTHS = [1] * 30 + [2] * 25 + [3] * 20 + [4] * 12 + [5] * 8 + [6] * 5


class Trace:
    """The document: header and class declarations, then sections of events (each a list of
    element bodies, `acquire cpu="0" lock="x"`), stamped with t= and written in big chunks."""

    def __init__(self, out, source, classes):
        self.out = out
        self.lines = []
        self.count = 0
        self.t = 0
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<trace version="1" source="{source}" cpus="{CPUS}">\n')
        if classes:
            out.write("  <classes>\n")
            out.write("".join(f'    <class name="{name}" type="{kind}"/>\n' for name, kind in classes))
            out.write("  </classes>\n")
        out.write("  <events>\n")

    def section(self, bodies):
        t = self.t + GAP
        self.lines.extend([f'    <{body} t="{t + k * STEP}"/>\n' for k, body in enumerate(bodies)])
        self.t = t + len(bodies) * STEP
        self.count += len(bodies)
        if len(self.lines) >= CHUNK:
            self.out.write("".join(self.lines))
            self.lines.clear()

    def close(self):
        self.out.write("".join(self.lines))
        self.out.write("  </events>\n</trace>\n")
        self.out.flush()


def nested(who, locks):
    """A task section: take `locks` (attribute strings) in order, release them in reverse."""
    return [f"acquire {who}{lock}" for lock in locks] + [f"release {who}{lock}" for lock in reversed(locks)]


def who_strings(tasks):
    """`cpu="c" task="taskN"` for every cpu and task, indexed [cpu][task]."""
    return [[f'cpu="{cpu}" task="task{task}"' for task in range(tasks)] for cpu in range(CPUS)]


def sparse_successors(rng, classes, per_class, window):
    """Each class gets `per_class` successors among the next `window` ranks."""
    return [rng.sample(range(c + 1, min(classes, c + window + 1)), min(per_class, classes - c - 1))
            for c in range(classes)]


def sparse_walks(rng, classes, who, tasks, maxdepth=4):
    """(walk, who) of sections on random cpus and tasks, each walking 1..maxdepth classes
    along sparse successors (2 a class, within the next 64 ranks)."""
    successors = sparse_successors(rng, classes, 2, 64)
    randrange = rng.randrange
    while True:
        c = randrange(classes)
        walk = [c]
        for _ in range(randrange(maxdepth)):
            if not successors[c]:
                break
            c = successors[c][randrange(len(successors[c]))]
            walk.append(c)
        yield walk, who(randrange(CPUS), randrange(tasks))


# Workloads: each takes (rng, params) and returns (class declarations, minimum events,
# iterator of sections).

def kernel(rng, p):
    count, deps, window = p["classes"], p["deps"], p["window"]
    walks = rng
    if p["graph"]:
        rng = random.Random(p["graph"])
    sleeping = int(count * 0.15)
    kinds, safe = [], []
    for c in range(count):
        if c < sleeping:
            kinds.append("rwsem" if rng.random() < 0.3 else "mutex")
        else:
            kinds.append("rwlock" if rng.random() < 0.2 else "spinlock")
        safe.append(c >= sleeping and rng.random() < p["irqsafe"])
    names = [f"sub{c // 32}->lock{c % 32}" for c in range(count)]
    lock = [f' lock="{name}"' for name in names]
    fn = [f' fn="sub{c // 32}_op{c % 32}"' for c in range(count)]
    reads = [kind in ("rwlock", "rwsem") for kind in kinds]
    instances = [[f' instance="{0xffff888000000000 + c * 0x10000 + k * 0x40:x}"' for k in range(8)]
                 if rng.random() < 0.25 else None for c in range(count)]
    # Successors: about deps/count a class, 3/4 near in rank, 1/4 anywhere above. An irq-safe
    # class's successors are the irq-safe classes just above it (and one further up).
    safe_list = [c for c in range(count) if safe[c]]
    safe_index = {c: i for i, c in enumerate(safe_list)}
    average = deps / count
    low = max(1, int(average / 2))
    high = max(low, int(round(2 * average - low)))
    successors = []
    for c in range(count):
        want = rng.randint(low, high)
        if safe[c]:
            above = safe_list[safe_index[c] + 1:]
            near = above[:32]
            picks = set(rng.sample(near, min(want, len(near))))
            if len(above) > 32 and rng.random() < 0.5:
                picks.add(rng.choice(above[32:]))
        else:
            near = range(c + 1, min(count, c + window + 1))
            picks = set(rng.sample(near, min(want - want // 4, len(near))))
            for _ in range(want // 4):
                if c + 1 < count:
                    picks.add(rng.randrange(c + 1, count))
        picks = sorted(picks)
        rng.shuffle(picks)  # which successor is hot is random
        successors.append(picks)
    rng = walks
    starts = list(range(count))
    rng.shuffle(starts)
    safe_starts = list(safe_list)
    rng.shuffle(safe_starts)
    skew, tasks = p["skew"], p["tasks"]
    who = who_strings(tasks)
    random_ = rng.random

    def walk(c):
        sequence = [c]
        depth = KERNEL_DEPTHS[int(random_() * 100)]
        while len(sequence) < depth:
            following = successors[c]
            if not following:
                break
            c = following[int(len(following) * random_() ** skew)]
            sequence.append(c)
        return sequence

    def locks(sequence):
        """(acquire attributes, release attributes) of each lock of a walk, irqs aside."""
        for c in sequence:
            instance = instances[c][int(random_() * 8)] if instances[c] else ""
            mode = ' mode="read"' if reads[c] and random_() < 0.5 else ""
            yield c, lock[c] + instance + mode, lock[c] + instance

    def hardirq(cpu):
        cpu_ = f'cpu="{cpu}"'
        start = safe_starts[int(len(safe_starts) * random_() ** skew)]
        taken = list(locks(walk(start)))
        return ([f'hardirq-enter {cpu_} irq="{start % 32}"']
                + [f"acquire {cpu_}{a}{fn[c]}" for c, a, _ in taken]
                + [f"release {cpu_}{r}" for _, _, r in reversed(taken)]
                + [f"hardirq-exit {cpu_}"])

    def task_section(cpu, task):
        w = who[cpu][task]
        taken = list(locks(walk(starts[int(count * random_() ** skew)])))
        first_safe = next((i for i, (c, _, _) in enumerate(taken) if safe[c]), len(taken))
        wrap = first_safe == 0 and random_() < 0.5
        acquires, releases = [], []
        for i, (c, a, r) in enumerate(taken):
            if i == first_safe and not wrap:
                acquires.append(f'acquire {w}{a} irq="save"{fn[c]}')
                releases.append(f'release {w}{r} irq="restore"')
            else:
                acquires.append(f"acquire {w}{a}{fn[c]}")
                releases.append(f"release {w}{r}")
        if first_safe > 0 and random_() < p["nested"]:
            # A hardirq arrives while the task holds irq-unsafe locks with irqs on.
            at = 1 + int(random_() * first_safe)
            acquires[at:at] = hardirq(cpu)
        bodies = acquires + releases[::-1]
        if wrap:
            bodies = [f"irq-disable {w}"] + bodies + [f"irq-enable {w}"]
        return bodies

    def sections():
        running = [None] * CPUS
        while True:
            batch = []
            for cpu in range(CPUS):
                if random_() < p["hardirq"]:
                    batch.append(hardirq(cpu))
                    continue
                task = int(random_() * tasks)
                while task in running and running[cpu] != task:
                    task = int(random_() * tasks)
                running[cpu] = task
                batch.append(task_section(cpu, task))
            # The cpus' sections interleaved event by event: each cpu's stay in order.
            yield [body for group in itertools.zip_longest(*batch) for body in group if body is not None]

    declared = [(names[c], kinds[c]) for c in range(count) if kinds[c] != "spinlock"]
    return declared, 0, sections()


def dense(rng, p):
    count = p["classes"]
    pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
    pairs = rng.sample(pairs, min(p["deps"], len(pairs)))
    # Ranks are a random permutation of the names, so name order says nothing.
    lock = [f' lock="dense{c}"' for c in rng.sample(range(count), count)]
    who = who_strings(64)

    def sections():
        randrange = rng.randrange
        for i, j in pairs:
            yield nested(who[randrange(CPUS)][randrange(64)], [lock[i], lock[j]])
        while True:
            i, j = pairs[randrange(len(pairs))]
            yield nested(who[randrange(CPUS)][randrange(64)], [lock[i], lock[j]])

    return [], 0, sections()


def classes_(rng, p):
    count = p["classes"]
    lock = [f' lock="cls{c}"' for c in range(count)]
    who = who_strings(64)
    walks = sparse_walks(rng, count, lambda cpu, task: who[cpu][task], 64)
    return [], 0, (nested(w, [lock[c] for c in walk]) for walk, w in walks)


def deps(rng, p):
    wanted = p["deps"]
    count = max(16, int(round(2 * math.sqrt(wanted))))
    total = count * (count - 1) // 2
    wanted = min(wanted, total)
    # Edge e is pair number (e * stride + offset) mod total: distinct for distinct e, as
    # stride is prime to total, and spread over the whole triangle.
    stride = int(total * 0.6180339887) | 1
    while math.gcd(stride, total) != 1:
        stride += 2
    offset = rng.randrange(total)
    lock = [f' lock="dep{c}"' for c in range(count)]
    who = who_strings(64)

    def pair(q):
        j = (1 + math.isqrt(1 + 8 * q)) // 2
        return q - j * (j - 1) // 2, j

    def sections():
        randrange = rng.randrange
        while True:
            for e in range(wanted):
                i, j = pair((e * stride + offset) % total)
                yield nested(who[randrange(CPUS)][randrange(64)], [lock[i], lock[j]])

    return [], 0, sections()


def chains(rng, p):
    count, low, high = p["classes"], p["mindepth"], p["maxdepth"]
    lock = [f' lock="ch{c}"' for c in range(count)]
    who = who_strings(64)

    def sections():
        randrange, sample = rng.randrange, rng.sample
        population = range(count)
        while True:
            walk = sorted(sample(population, low + randrange(high - low + 1)))
            yield nested(who[randrange(CPUS)][randrange(64)], [lock[c] for c in walk])

    return [], 0, sections()


def depth(rng, p):
    count, held = p["classes"], p["depth"]
    lock = [f' lock="deep{c}" fn="deep_walk"' for c in range(count)]
    release = [f' lock="deep{c}"' for c in range(count)]
    who = who_strings(64)

    def sections():
        randrange, sample = rng.randrange, rng.sample
        population = range(count)
        while True:
            walk = sorted(sample(population, min(held, count)))
            w = who[randrange(CPUS)][randrange(64)]
            yield ([f"acquire {w}{lock[c]}" for c in walk]
                   + [f"release {w}{release[c]}" for c in reversed(walk)])

    return [], 0, sections()


def tasks(rng, p):
    count, many = p["classes"], p["tasks"]
    lock = [f' lock="tk{c}"' for c in range(count)]
    walks = sparse_walks(rng, count, lambda cpu, task: f'cpu="{cpu}" task="task{task}"', many)
    return [], 0, (nested(w, [lock[c] for c in walk]) for walk, w in walks)


def instances(rng, p):
    count, per_class = p["classes"], p["instances"]
    lock = [f' lock="obj{c}"' for c in range(count)]
    instance = [f' instance="{0xffff888100000000 + k * 0x40:x}"' for k in range(per_class)]
    who = who_strings(64)
    walks = sparse_walks(rng, count, lambda cpu, task: who[cpu][task], 64)
    randrange = rng.randrange
    return [], 0, (nested(w, [lock[c] + instance[randrange(per_class)] for c in walk]) for walk, w in walks)


def backchain(rng, p):
    n, fresh = p["n"], p["fresh"]
    who = who_strings(64)

    def sections():
        randrange = rng.randrange
        for round_ in itertools.count():
            prefix = f"r{round_}_" if fresh else ""
            lock = [f' lock="{prefix}A{k + 1}"' for k in range(n)]
            for k in range(n - 2, -1, -1):
                yield nested(who[randrange(CPUS)][randrange(64)], [lock[k], lock[k + 1]])

    return [], 4 * (n - 1), sections()


def cycles(rng, p):
    n = p["n"]
    who = who_strings(64)

    def sections():
        randrange = rng.randrange
        while True:
            for k in range(n):
                a, b = f' lock="cycA{k}"', f' lock="cycB{k}"'
                yield nested(who[randrange(CPUS)][randrange(64)], [a, b])
                yield nested(who[randrange(CPUS)][randrange(64)], [b, a])

    return [], 8 * n, sections()


def ring(rng, p):
    n = p["n"]
    lock = [f' lock="ring{k + 1}"' for k in range(n)]
    who = who_strings(64)

    def sections():
        randrange = rng.randrange
        while True:
            for k in range(n):
                yield nested(who[randrange(CPUS)][randrange(64)], [lock[k], lock[(k + 1) % n]])

    return [], 4 * n, sections()


def pinwalk(rng, p):
    pages = p["pages"]
    declared = [("mm->page_table_lock", "spinlock"), ("ptlock", "spinlock")]

    def walk(mm, cpu):
        who = f'cpu="{cpu}" task="xen{mm}" '
        mm_lock = f'lock="mm->page_table_lock" instance="mm:{mm}"'
        ptl = [f'ptl:{mm}:{k}' for k in range(pages)]
        pte = [f'pte:{mm}:{k}' for k in range(pages)]
        pin = [f"acquire {who}{mm_lock}"]
        for k in range(pages):
            pin += [f'acquire {who}lock="ptlock" instance="{ptl[k]}" nest="mm->page_table_lock"',
                    f'set-ro {who}page="{pte[k]}" level="pte" ptl="{ptl[k]}"',
                    f'pin {who}page="{pte[k]}" level="pte"']
        pin += [f'set-ro {who}page="pgd:{mm}" level="pgd"', f'pin {who}page="pgd:{mm}" level="pgd"']
        pin += [f'release {who}lock="ptlock" instance="{ptl[k]}"' for k in reversed(range(pages))]
        pin.append(f"release {who}{mm_lock}")
        unpin = [f"acquire {who}{mm_lock}", f'unpin {who}page="pgd:{mm}" level="pgd"',
                 f'set-rw {who}page="pgd:{mm}" level="pgd"']
        for k in range(pages):
            unpin += [f'acquire {who}lock="ptlock" instance="{ptl[k]}" nest="mm->page_table_lock"',
                      f'unpin {who}page="{pte[k]}" level="pte"',
                      f'set-rw {who}page="{pte[k]}" level="pte" ptl="{ptl[k]}"',
                      f'release {who}lock="ptlock" instance="{ptl[k]}"']
        unpin.append(f"release {who}{mm_lock}")
        return pin, unpin

    walks = [walk(mm, mm % CPUS) for mm in range(8)]

    def sections():
        while True:
            for pin, unpin in walks:
                yield pin
                yield unpin

    return declared, 2 * len(walks[0][0]) + 2 * len(walks[0][1]), sections()


def pending(rng, p):
    pending_ = p["pending"]
    others = ",".join(str(cpu) for cpu in range(1, CPUS))

    def sections():
        randrange = rng.randrange
        for step in itertools.count():
            who = 'cpu="0" task="munmap" '
            targets = "others" if step % 2 else others
            bodies = [f'table-unlink {who}table="pt:{step}"',
                      f'tlb-flush {who}targets="{targets}" mode="ipi" wait="true"']
            if step >= pending_:
                bodies.append(f'table-free {who}table="pt:{step - pending_}"')
            yield bodies
            if step % 4 == 0:
                walker = f'cpu="{1 + randrange(CPUS - 1)}" task="gup{randrange(16)}" '
                yield [f"irq-disable {walker}", f"lockless-walk-begin {walker}",
                       f"lockless-walk-end {walker}", f"irq-enable {walker}"]

    return [], 3 * pending_ + 8, sections()


def takeall(rng, p):
    locks = p["locks"]
    declared = [("mm_all_locks_mutex", "mutex"), ("anon_vma", "rwsem")]

    def take_and_drop(mm):
        who = f'cpu="{mm % CPUS}" task="kvm{mm}" '
        mutex = f'lock="mm_all_locks_mutex" instance="mm:{mm}"'
        vmas = [f'lock="anon_vma" instance="av:{mm}:{k}"' for k in range(locks)]
        return ([f"acquire {who}{mutex}"]
                + [f'acquire {who}{vma} nest="mm_all_locks_mutex"' for vma in vmas]
                + [f"release {who}{vma}" for vma in vmas]
                + [f"release {who}{mutex}"])

    sections_ = [take_and_drop(mm) for mm in range(4)]

    def sections():
        while True:
            yield from sections_

    return declared, len(sections_[0]), sections()


WORKLOADS = {
    "kernel": (kernel, dict(classes=8000, deps=50000, window=256, irqsafe=0.1, skew=3.0, tasks=512,
                            hardirq=0.08, nested=0.05, graph=0)),
    "dense": (dense, dict(classes=200, deps=20000)),
    "classes": (classes_, dict(classes=10000)),
    "deps": (deps, dict(deps=100000)),
    "chains": (chains, dict(classes=512, mindepth=8, maxdepth=16)),
    "depth": (depth, dict(depth=64, classes=128)),
    "tasks": (tasks, dict(tasks=100000, classes=256)),
    "instances": (instances, dict(instances=4096, classes=64)),
    "backchain": (backchain, dict(n=4000, fresh=0)),
    "cycles": (cycles, dict(n=1000)),
    "ring": (ring, dict(n=1000)),
    "pinwalk": (pinwalk, dict(pages=256)),
    "pending": (pending, dict(pending=100)),
    "takeall": (takeall, dict(locks=4096)),
}


def parse_params(workload, pairs):
    params = dict(WORKLOADS[workload][1])
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in params:
            sys.exit(f"generate-graph.py: {workload} takes {', '.join(sorted(params)) or 'no parameters'}, not {key!r}")
        params[key] = type(params[key])(float(value)) if "." in value or "e" in value else type(params[key])(value)
    return params


def write(out, workload, events, seed=1, pairs=()):
    """Writes the trace of the command line `workload events --seed seed --param pair...` to
    the text file `out` (for a caller that imports this file, as examples/fleet-dask does)."""
    params = parse_params(workload, pairs)
    rng = random.Random(seed)
    declared, minimum, sections = WORKLOADS[workload][0](rng, params)
    source = " ".join(["benchmarks/generate-graph.py", workload, str(events), f"--seed {seed}"]
                      + [f"--param {k}={v}" for k, v in sorted(params.items())
                         if not (k == "graph" and v == 0)])  # graph=0 unnamed: sources as before it
    trace = Trace(out, source, declared)
    target = max(events, minimum)
    for bodies in sections:
        trace.section(bodies)
        if trace.count >= target:
            break
    trace.close()


def main():
    parser = argparse.ArgumentParser(description="Write a synthetic lock-graph trace to standard output.")
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("events", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--param", action="append", default=[], metavar="K=V")
    args = parser.parse_args()
    out = open(sys.stdout.fileno(), "w", buffering=1 << 20, closefd=False)
    write(out, args.workload, args.events, args.seed, args.param)


if __name__ == "__main__":
    main()
