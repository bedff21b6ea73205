#!/usr/bin/env python3
"""
write-trace-dat.py - write a trace-cmd "trace.dat" file (file format version 6,
the non-sectioned format described in trace-cmd.dat.v6(5)) from synthetic
events, so that trace-cmd / libtracecmd / libtraceevent can read it back as if
it had been recorded on a real x86_64 Linux 6.x kernel.

Standard library only.  Events are streamed: each CPU's ring-buffer pages are
written to an anonymous temporary file while the events are consumed, and the
final file is assembled afterwards, so millions of events can come from a
generator without being held in memory.

Python API
----------
    write_trace_dat(path, cpus, events, kallsyms=None, trace_clock="local")

    cpus      number of CPUs recorded (int), or None to use max(event cpu)+1
    events    iterable of dicts:
                {"cpu": 0, "ts": 1000 (ns, non-decreasing per cpu),
                 "pid": 1234, "comm": "kworker/0:1",
                 "flags": 0x09 (common_flags), "preempt": 1,
                 "event": "lock:lock_acquire",   # or just "lock_acquire"
                 "fields": {...}}
    kallsyms  extra symbols: a string in /proc/kallsyms format, an iterable of
              such lines, or a dict {address: name}
    trace_clock  name stored in the file's trace clock ("local", "mono", ...)

Field names are the kernel's (see EVENTS below).  Missing fields are 0 / "".
Field values are integers (JSON input may also give "0x..." strings for
integers).  Strings for __data_loc char[] fields and char[16] arrays.  Bitmask /
cpumask fields take a list of CPU numbers or an integer mask.  Pointer fields
(callsite, callback, lockdep_addr) take integers; callsite/callback may also be
given as a symbol name found in kallsyms.  "const char *reason" fields (ipi)
take a string: it is given a synthetic kernel address that is listed in the
file's printk-formats section, which is how trace-cmd resolves such pointers.
preemptirq events also accept "caller"/"parent" (absolute address or symbol)
instead of caller_offs/parent_offs (offsets from _stext = 0xffffffff81000000).
The saved cmdlines hold the last comm seen per pid, cut to 15 bytes as in the
kernel; pid 0 is left out (trace-cmd shows it as <idle>).

Command line
------------
    write-trace-dat.py [--cpus N] [--kallsyms FILE] OUT.dat < events.jsonl
    write-trace-dat.py --demo OUT.dat
"""

import argparse
import json
import os
import shutil
import struct
import sys
import tempfile

PAGE_SIZE = 4096
PAGE_HEADER_SIZE = 16            # u64 timestamp + local_t commit (8 bytes)
PAGE_DATA_SIZE = PAGE_SIZE - PAGE_HEADER_SIZE   # 4080
RB_MAX_SMALL_DATA = 28 * 4       # 112: largest payload encoded in type_len
TYPE_TIME_EXTEND = 30
TS_SHIFT = 27
TS_MASK = (1 << TS_SHIFT) - 1

FILE_MAGIC = b"\x17\x08\x44tracing"
FILE_VERSION = b"6\0"

# TRACECMD_OPTION_* ids (trace-cmd lib/trace-cmd/include/private/trace-cmd-private.h)
OPTION_DONE = 0
OPTION_TRACECLOCK = 4
OPTION_UNAME = 5

STEXT = 0xffffffff81000000       # address of _stext used for preemptirq offsets

# Symbols always written to the kallsyms section ("addr type name").
DEFAULT_KALLSYMS = [
    (0xffffffff81000000, "T", "_stext"),
    (0xffffffff81000000, "T", "_text"),
    (0xffffffff81020000, "T", "native_send_call_func_single_ipi"),
    (0xffffffff81021000, "T", "native_send_call_func_ipi"),
    (0xffffffff81022000, "T", "native_smp_send_reschedule"),
    (0xffffffff81080000, "T", "flush_tlb_func"),
    (0xffffffff81081000, "T", "generic_exec_single"),
    (0xffffffff81082000, "T", "smp_call_function_many_cond"),
    (0xffffffff81083000, "T", "smp_call_function_single"),
    (0xffffffff81084000, "T", "on_each_cpu_cond_mask"),
    (0xffffffff81085000, "T", "flush_tlb_mm_range"),
    (0xffffffff81086000, "T", "do_sync_core"),
    (0xffffffff81087000, "T", "nohz_csd_func"),
    (0xffffffff81088000, "T", "__smp_call_single_queue"),
    (0xffffffff810a0000, "T", "__do_softirq"),
    (0xffffffff810a1000, "T", "irq_exit_rcu"),
    (0xffffffff810a2000, "T", "__irq_exit_rcu"),
    (0xffffffff81100000, "T", "_raw_spin_lock_irqsave"),
    (0xffffffff81101000, "T", "_raw_spin_unlock_irqrestore"),
    (0xffffffff81102000, "T", "_raw_spin_lock_irq"),
    (0xffffffff81103000, "T", "_raw_spin_unlock_irq"),
    (0xffffffff81104000, "T", "trace_hardirqs_off"),
    (0xffffffff81105000, "T", "trace_hardirqs_on"),
    (0xffffffff81106000, "T", "try_to_wake_up"),
    (0xffffffff81107000, "T", "schedule"),
    (0xffffffff81108000, "T", "__schedule"),
    (0xffffffff81109000, "T", "do_idle"),
    (0xffffffff8110a000, "T", "asm_sysvec_apic_timer_interrupt"),
    (0xffffffff8110b000, "T", "sysvec_call_function_single"),
    (0xffffffff8110c000, "T", "lock_acquire"),
    (0xffffffff8110d000, "T", "lock_release"),
    (0xffffffff82000000, "T", "_etext"),
]

# Synthetic addresses for "const char *reason" strings (printk formats).
REASON_BASE = 0xffffffff82a00000
REASON_STRIDE = 0x40

# ---------------------------------------------------------------------------
# Event descriptions: field layout exactly as the kernel's
# /sys/kernel/tracing/events/<sys>/<name>/format prints it on x86_64 6.x
# (chars are unsigned since 6.2, hence signed:0 for char fields).
# Each field: (c type as printed, name, offset, size, signed, kind)
# kinds: u32 s32 u64 s64 ptr str(__data_loc char[]) bitmask cpumask char16
#        reason (const char * resolved through printk formats)
# ---------------------------------------------------------------------------

_PF_LOCK_ACQUIRE = ('"%p %s%s%s", REC->lockdep_addr, (REC->flags & 1) ? "try " : "", '
                    '(REC->flags & 2) ? "read " : "", __get_str(name)')
_PF_LOCK = '"%p %s", REC->lockdep_addr, __get_str(name)'
_PF_SOFTIRQ = ('"vec=%u [action=%s]", REC->vec, __print_symbolic(REC->vec, '
               '{ 0, "HI" }, { 1, "TIMER" }, { 2, "NET_TX" }, { 3, "NET_RX" }, '
               '{ 4, "BLOCK" }, { 5, "IRQ_POLL" }, { 6, "TASKLET" }, { 7, "SCHED" }, '
               '{ 8, "HRTIMER" }, { 9, "RCU" })')
_PF_PREEMPTIRQ = ('"caller=%pS parent=%pS", '
                  '(void *)((unsigned long)(_stext) + REC->caller_offs), '
                  '(void *)((unsigned long)(_stext) + REC->parent_offs)')
_TASK_REPORT = ("(0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | "
                "0x00000008 | 0x00000010 | 0x00000020 | 0x00000040)")
_PF_SCHED_SWITCH = (
    '"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s '
    'next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, '
    '(REC->prev_state & (((' + _TASK_REPORT + ' + 1) << 1) - 1)) ? '
    '__print_flags(REC->prev_state & (((' + _TASK_REPORT + ' + 1) << 1) - 1), "|", '
    '{ 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, '
    '{ 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, '
    '{ 0x00000040, "P" }, { 0x00000080, "I" }) : "R", '
    'REC->prev_state & ((' + _TASK_REPORT + ' + 1) << 1) ? "+" : "", '
    'REC->next_comm, REC->next_pid, REC->next_prio')
_PF_TLB_FLUSH = ('"pages:%ld reason:%s (%d)", REC->pages, __print_symbolic(REC->reason, '
                 '{ 0, "flush on task switch" }, { 1, "remote shootdown" }, '
                 '{ 2, "local shootdown" }, { 3, "local mm shootdown" }, '
                 '{ 4, "remote ipi send" }), REC->reason')

_LOCK_FIELDS = [
    ("__data_loc char[]", "name", 8, 4, 0, "str"),
    ("void *", "lockdep_addr", 16, 8, 0, "ptr"),
]
_SOFTIRQ_FIELDS = [("unsigned int", "vec", 8, 4, 0, "u32")]
_PREEMPTIRQ_FIELDS = [
    ("s32", "caller_offs", 8, 4, 1, "s32"),
    ("s32", "parent_offs", 12, 4, 1, "s32"),
]
_IPI_HANDLER_FIELDS = [("const char *", "reason", 8, 8, 0, "reason")]

# (system, name, id, struct size, fields, print fmt).  IDs are arbitrary but
# fixed (the kernel assigns them at boot); they only need to be unique.
EVENTS = [
    ("lock", "lock_acquire", 391, 24, [
        ("unsigned int", "flags", 8, 4, 0, "u32"),
        ("__data_loc char[]", "name", 12, 4, 0, "str"),
        ("void *", "lockdep_addr", 16, 8, 0, "ptr"),
    ], _PF_LOCK_ACQUIRE),
    ("lock", "lock_release", 392, 24, _LOCK_FIELDS, _PF_LOCK),
    ("lock", "lock_contended", 393, 24, _LOCK_FIELDS, _PF_LOCK),
    ("lock", "lock_acquired", 394, 24, _LOCK_FIELDS, _PF_LOCK),
    ("irq", "irq_handler_entry", 155, 16, [
        ("int", "irq", 8, 4, 1, "s32"),
        ("__data_loc char[]", "name", 12, 4, 0, "str"),
    ], '"irq=%d name=%s", REC->irq, __get_str(name)'),
    ("irq", "irq_handler_exit", 154, 16, [
        ("int", "irq", 8, 4, 1, "s32"),
        ("int", "ret", 12, 4, 1, "s32"),
    ], '"irq=%d ret=%s", REC->irq, REC->ret ? "handled" : "unhandled"'),
    ("irq", "softirq_entry", 152, 12, _SOFTIRQ_FIELDS, _PF_SOFTIRQ),
    ("irq", "softirq_exit", 151, 12, _SOFTIRQ_FIELDS, _PF_SOFTIRQ),
    ("irq", "softirq_raise", 150, 12, _SOFTIRQ_FIELDS, _PF_SOFTIRQ),
    ("ipi", "ipi_raise", 140, 24, [
        ("__data_loc unsigned long[]", "target_cpus", 8, 4, 0, "bitmask"),
        ("const char *", "reason", 16, 8, 0, "reason"),
    ], '"target_mask=%s (%s)", __get_bitmask(target_cpus), REC->reason'),
    ("ipi", "ipi_send_cpu", 141, 32, [
        ("unsigned int", "cpu", 8, 4, 0, "u32"),
        ("void *", "callsite", 16, 8, 0, "ptr"),
        ("void *", "callback", 24, 8, 0, "ptr"),
    ], '"cpu=%u callsite=%pS callback=%pS", REC->cpu, REC->callsite, REC->callback'),
    ("ipi", "ipi_send_cpumask", 142, 32, [
        ("__data_loc cpumask_t[]", "cpumask", 8, 4, 0, "cpumask"),
        ("void *", "callsite", 16, 8, 0, "ptr"),
        ("void *", "callback", 24, 8, 0, "ptr"),
    ], '"cpumask=%s callsite=%pS callback=%pS", __get_cpumask(cpumask), '
       'REC->callsite, REC->callback'),
    ("ipi", "ipi_entry", 139, 16, _IPI_HANDLER_FIELDS, '"(%s)", REC->reason'),
    ("ipi", "ipi_exit", 138, 16, _IPI_HANDLER_FIELDS, '"(%s)", REC->reason'),
    ("preemptirq", "irq_disable", 166, 16, _PREEMPTIRQ_FIELDS, _PF_PREEMPTIRQ),
    ("preemptirq", "irq_enable", 167, 16, _PREEMPTIRQ_FIELDS, _PF_PREEMPTIRQ),
    ("sched", "sched_switch", 317, 64, [
        ("char", "prev_comm[16]", 8, 16, 0, "char16"),
        ("pid_t", "prev_pid", 24, 4, 1, "s32"),
        ("int", "prev_prio", 28, 4, 1, "s32"),
        ("long", "prev_state", 32, 8, 1, "s64"),
        ("char", "next_comm[16]", 40, 16, 0, "char16"),
        ("pid_t", "next_pid", 56, 4, 1, "s32"),
        ("int", "next_prio", 60, 4, 1, "s32"),
    ], _PF_SCHED_SWITCH),
    ("tlb", "tlb_flush", 423, 24, [
        ("int", "reason", 8, 4, 1, "s32"),
        ("unsigned long", "pages", 16, 8, 0, "u64"),
    ], _PF_TLB_FLUSH),
]

COMMON_FIELDS_TEXT = (
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
)

# /sys/kernel/tracing/events/header_page and header_event (x86_64, 4K pages)
HEADER_PAGE_TEXT = (
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
    "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
    "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
    "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n"
)
HEADER_EVENT_TEXT = (
    "# compressed entry header\n"
    "\ttype_len    :    5 bits\n"
    "\ttime_delta  :   27 bits\n"
    "\tarray       :   32 bits\n"
    "\n"
    "\tpadding     : type == 29\n"
    "\ttime_extend : type == 30\n"
    "\ttime_stamp : type == 31\n"
    "\tdata max type_len  == 28\n"
)

UNAME_TEXT = "Linux pgtrace-synthetic 6.6.0-synthetic #1 SMP PREEMPT_DYNAMIC x86_64"

_PACK_KIND = {"u32": "I", "s32": "i", "u64": "Q", "s64": "q", "ptr": "Q",
              "str": "I", "bitmask": "I", "cpumask": "I", "char16": "16s",
              "reason": "Q"}


def format_text(system, name, ev_id, fields, print_fmt):
    """The text of events/<system>/<name>/format as the kernel prints it."""
    out = ["name: %s\n" % name, "ID: %d\n" % ev_id, "format:\n", COMMON_FIELDS_TEXT, "\n"]
    for ctype, fname, off, size, signed, _kind in fields:
        out.append("\tfield:%s %s;\toffset:%d;\tsize:%d;\tsigned:%d;\n"
                   % (ctype, fname, off, size, signed))
    out.append("\nprint fmt: %s\n" % print_fmt)
    return "".join(out)


def _to_int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        return int(v, 0)
    raise TypeError("expected an integer, got %r" % (v,))


class _Encoder:
    """Turns the 'fields' dict of one event type into the record payload."""

    def __init__(self, system, name, ev_id, struct_size, fields, ctx):
        self.system, self.name, self.id = system, name, ev_id
        self.struct_size = struct_size
        self.ctx = ctx
        fmt = ["<HBBi"]
        pos = 8
        self.slots = []
        for ctype, fname, off, size, _signed, kind in fields:
            if off > pos:
                fmt.append("%dx" % (off - pos))
            fmt.append(_PACK_KIND[kind])
            pos = off + size
            key = fname.split("[")[0]
            self.slots.append((key, kind))
        if struct_size > pos:
            fmt.append("%dx" % (struct_size - pos))
        self.st = struct.Struct("".join(fmt))
        assert self.st.size == struct_size, (name, self.st.size, struct_size)

    def encode(self, flags, preempt, pid, fields):
        ctx = self.ctx
        vals = []
        dyn = []
        dyn_off = self.struct_size
        for key, kind in self.slots:
            if kind in ("str", "bitmask", "cpumask"):
                v = fields.get(key, "" if kind == "str" else 0)
                if kind == "str":
                    data = str(v).encode("utf-8") + b"\0"
                else:
                    data = ctx.mask_bytes(v)
                if len(data) > 0xffff:
                    raise ValueError("%s.%s too long" % (self.name, key))
                vals.append(dyn_off | (len(data) << 16))
                dyn.append(data)
                dyn_off += len(data)
            elif kind == "char16":
                vals.append(str(fields.get(key, "")).encode("utf-8")[:15])
            elif kind == "reason":
                v = fields.get(key, 0)
                vals.append(ctx.reason_addr(v) if isinstance(v, str) and not _looks_int(v)
                            else _to_int(v) & 0xffffffffffffffff)
            elif kind == "ptr":
                v = fields.get(key, 0)
                if isinstance(v, str) and not _looks_int(v):
                    v = ctx.symbol_addr(v)
                vals.append(_to_int(v) & 0xffffffffffffffff)
            elif kind == "u32":
                vals.append(_to_int(fields.get(key, 0)) & 0xffffffff)
            elif kind == "u64":
                vals.append(_to_int(fields.get(key, 0)) & 0xffffffffffffffff)
            elif kind == "s32":
                vals.append(_s32(self._preemptirq(key, fields)))
            else:  # s64
                v = _to_int(fields.get(key, 0))
                vals.append(((v + (1 << 63)) & 0xffffffffffffffff) - (1 << 63))
        head = self.st.pack(self.id, flags & 0xff, preempt & 0xff, _s32(pid), *vals)
        if dyn:
            return head + b"".join(dyn)
        return head

    def _preemptirq(self, key, fields):
        if key in fields:
            return _to_int(fields[key])
        # convenience: absolute "caller"/"parent" addresses or symbol names
        alt = {"caller_offs": "caller", "parent_offs": "parent"}.get(key)
        if alt and alt in fields:
            v = fields[alt]
            if isinstance(v, str) and not _looks_int(v):
                v = self.ctx.symbol_addr(v)
            return _to_int(v) - STEXT
        return 0


def _looks_int(s):
    try:
        int(s, 0)
        return True
    except ValueError:
        return False


def _s32(v):
    v = _to_int(v)
    return ((v + (1 << 31)) & 0xffffffff) - (1 << 31)


class _Context:
    """State shared by all encoders: symbols, reason strings, cpumask width."""

    def __init__(self, kallsyms_lines):
        self.kallsyms_lines = kallsyms_lines
        self.sym_by_name = {}
        for line in kallsyms_lines:
            parts = line.split()
            if len(parts) >= 3:
                self.sym_by_name.setdefault(parts[2], int(parts[0], 16))
        self.reasons = {}          # string -> address (first-appearance order)
        self.mask_longs = 1        # nr_cpumask_bits rounded to longs (set later)

    def symbol_addr(self, name):
        base, plus, off = name.partition("+")
        if base not in self.sym_by_name:
            raise ValueError("symbol %r not in kallsyms" % name)
        return self.sym_by_name[base] + (int(off, 0) if plus else 0)

    def reason_addr(self, s):
        addr = self.reasons.get(s)
        if addr is None:
            addr = REASON_BASE + REASON_STRIDE * len(self.reasons)
            self.reasons[s] = addr
        return addr

    def mask_bytes(self, v):
        if isinstance(v, (list, tuple)):
            mask = 0
            for c in v:
                mask |= 1 << _to_int(c)
        else:
            mask = _to_int(v)
        nlongs = max(self.mask_longs, (mask.bit_length() + 63) // 64)
        return mask.to_bytes(8 * nlongs, "little")


class _CpuBuffer:
    """Accumulates ring-buffer pages of one CPU into an anonymous temp file."""

    __slots__ = ("cpu", "file", "page", "page_ts", "last_ts", "pages", "events")

    def __init__(self, cpu, tmpdir):
        self.cpu = cpu
        self.file = tempfile.TemporaryFile(dir=tmpdir, prefix="trace-dat-cpu%d-" % cpu)
        self.page = None
        self.page_ts = 0
        self.last_ts = None
        self.pages = 0
        self.events = 0

    def _flush(self):
        used = len(self.page)
        hdr = struct.pack("<QQ", self.page_ts, used)
        self.file.write(hdr + bytes(self.page) + b"\0" * (PAGE_DATA_SIZE - used))
        self.pages += 1
        self.page = None

    def add(self, ts, payload):
        if self.last_ts is not None and ts < self.last_ts:
            raise ValueError("cpu %d: timestamp %d goes backwards (previous %d)"
                             % (self.cpu, ts, self.last_ts))
        n = len(payload)
        if n <= RB_MAX_SMALL_DATA:
            type_len = (n + 3) >> 2
            rec_hdr_len = 4
        else:
            type_len = 0
            rec_hdr_len = 8
        aligned = (n + 3) & ~3
        rec_len = rec_hdr_len + aligned
        if rec_len + 8 > PAGE_DATA_SIZE:
            raise ValueError("event payload of %d bytes does not fit in a page" % n)

        page = self.page
        if page is not None:
            delta = ts - self.last_ts
            extend = delta > TS_MASK
            need = rec_len + (8 if extend else 0)
            if len(page) + need > PAGE_DATA_SIZE:
                self._flush()
                page = None
        if page is None:
            page = self.page = bytearray()
            self.page_ts = ts
            delta = 0
            extend = False
        if extend:
            hi = delta >> TS_SHIFT
            if hi > 0xffffffff:
                raise ValueError("cpu %d: time gap %d ns too large" % (self.cpu, delta))
            page += struct.pack("<II", TYPE_TIME_EXTEND | ((delta & TS_MASK) << 5), hi)
            delta = 0
        if type_len:
            page += struct.pack("<I", type_len | (delta << 5))
        else:
            page += struct.pack("<II", delta << 5, aligned + 4)
        page += payload
        if aligned != n:
            page += b"\0" * (aligned - n)
        self.last_ts = ts
        self.events += 1

    def finish(self):
        if self.page is not None:
            self._flush()
        self.file.flush()
        self.file.seek(0)
        return self.pages * PAGE_SIZE


def _kallsyms_lines(extra):
    lines = ["%016x %s %s" % (a, t, n) for a, t, n in DEFAULT_KALLSYMS]
    if extra:
        if isinstance(extra, dict):
            for addr, name in sorted(extra.items(), key=lambda kv: (_to_int(kv[0]), kv[1])):
                lines.append("%016x T %s" % (_to_int(addr), name))
        else:
            if isinstance(extra, str):
                extra = extra.splitlines()
            for line in extra:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split()
                if len(parts) == 2:           # "addr name" -> text symbol
                    parts = [parts[0], "T", parts[1]]
                lines.append("%016x %s" % (int(parts[0], 16), " ".join(parts[1:])))
    return lines


def _cmdlines_text(comms):
    # the kernel keeps at most TASK_COMM_LEN-1 = 15 bytes of a task name
    return "".join("%d %s\n" % (pid, comms[pid].encode()[:15].decode("utf-8", "ignore"))
                   for pid in sorted(comms))


def write_trace_dat(path, cpus, events, kallsyms=None, trace_clock="local"):
    """Write events to a trace-cmd v6 trace.dat at path. Returns a stats dict."""
    ksyms = _kallsyms_lines(kallsyms)
    ctx = _Context(ksyms)
    if cpus is not None:
        ctx.mask_longs = max(1, (int(cpus) + 63) // 64)
    encoders = {}
    for system, name, ev_id, size, fields, pf in EVENTS:
        enc = _Encoder(system, name, ev_id, size, fields, ctx)
        encoders["%s:%s" % (system, name)] = enc
        encoders[name] = enc

    tmpdir = os.path.dirname(os.path.abspath(path))
    buffers = {}
    comms = {}
    used_systems = set()
    total = 0
    try:
        for ev in events:
            cpu = ev["cpu"]
            if cpus is not None and not 0 <= cpu < cpus:
                raise ValueError("event cpu %d outside 0..%d" % (cpu, cpus - 1))
            enc = encoders.get(ev["event"])
            if enc is None:
                raise ValueError("unsupported event %r" % (ev["event"],))
            pid = ev.get("pid", 0)
            comm = ev.get("comm")
            if pid:
                if comm:
                    comms[pid] = comm        # last name seen, like saved_cmdlines
                elif pid not in comms:
                    comms[pid] = "<...>"
            payload = enc.encode(ev.get("flags", 0), ev.get("preempt", 0), pid,
                                 ev.get("fields") or {})
            buf = buffers.get(cpu)
            if buf is None:
                buf = buffers[cpu] = _CpuBuffer(cpu, tmpdir)
            buf.add(_to_int(ev["ts"]), payload)
            used_systems.add(enc.system)
            total += 1

        if cpus is None:
            cpus = (max(buffers) + 1) if buffers else 1
        sizes = {cpu: b.finish() for cpu, b in buffers.items()}
        _assemble(path, cpus, buffers, sizes, comms, ksyms, ctx, trace_clock)
    finally:
        for b in buffers.values():
            b.file.close()
    return {"events": total, "cpus": cpus,
            "pages": sum(b.pages for b in buffers.values()),
            "bytes": os.path.getsize(path)}


def _assemble(path, cpus, buffers, sizes, comms, ksyms, ctx, trace_clock):
    p8 = struct.Struct("<Q").pack
    p4 = struct.Struct("<I").pack
    p2 = struct.Struct("<H").pack
    out = []
    # initial format
    out.append(FILE_MAGIC + FILE_VERSION + bytes([0, 8]) + p4(PAGE_SIZE))
    # header info
    hp = HEADER_PAGE_TEXT.encode()
    he = HEADER_EVENT_TEXT.encode()
    out.append(b"header_page\0" + p8(len(hp)) + hp)
    out.append(b"header_event\0" + p8(len(he)) + he)
    # ftrace event formats: none
    out.append(p4(0))
    # event formats, grouped by system, in a fixed order
    systems = []
    for system, name, ev_id, size, fields, pf in EVENTS:
        if not systems or systems[-1][0] != system:
            systems.append((system, []))
        systems[-1][1].append(format_text(system, name, ev_id, fields, pf).encode())
    out.append(p4(len(systems)))
    for system, fmts in systems:
        out.append(system.encode() + b"\0" + p4(len(fmts)))
        for f in fmts:
            out.append(p8(len(f)) + f)
    # kallsyms
    ks = "".join(l + "\n" for l in ksyms).encode()
    out.append(p4(len(ks)) + ks)
    # printk formats: the ipi "reason" strings
    pk = "".join('0x%x : "%s"\n' % (addr, s.replace("\\", "\\\\").replace('"', '\\"'))
                 for s, addr in ctx.reasons.items()).encode()
    out.append(p4(len(pk)) + pk)
    # saved cmdlines
    cl = _cmdlines_text(comms).encode()
    out.append(p8(len(cl)) + cl)
    # cpus
    out.append(p4(cpus))
    # options
    out.append(b"options  \0")
    if trace_clock:
        # trace-cmd record writes this option empty, and libtracecmd 3.1.6 parses its text
        # for the clock all the same, reading past the empty block into whatever the heap
        # held: a raw count printed in some runs, a crash in rarer ones. The option carries
        # the clock here, NUL-ended, so that readers of these files always see the same.
        oc = ("[%s]" % trace_clock).encode() + b"\0"
        out.append(p2(OPTION_TRACECLOCK) + p4(len(oc)) + oc)
    un = UNAME_TEXT.encode() + b"\0"
    out.append(p2(OPTION_UNAME) + p4(len(un)) + un)
    out.append(p2(OPTION_DONE))
    # flyrecord: per-cpu offset/size, then the trace clock, then page-aligned data
    out.append(b"flyrecord\0")
    head_len = sum(len(x) for x in out) + 16 * cpus
    clock = b""
    if trace_clock:
        c = ("[%s]" % trace_clock).encode()
        clock = p8(len(c)) + c
    pos = head_len + len(clock)
    offsets = []
    for cpu in range(cpus):
        pos = (pos + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        size = sizes.get(cpu, 0)
        offsets.append((pos, size))
        pos += size
    for off, size in offsets:
        out.append(p8(off) + p8(size))
    out.append(clock)

    with open(path, "wb") as f:
        f.write(b"".join(out))
        for cpu in range(cpus):
            off, size = offsets[cpu]
            cur = f.tell()
            if off > cur:
                f.write(b"\0" * (off - cur))
            if size:
                shutil.copyfileobj(buffers[cpu].file, f, 1 << 20)


# ---------------------------------------------------------------------------
# demo and command line
# ---------------------------------------------------------------------------

def demo_events():
    """A small trace: lock pair, hardirq, softirq, IPI to flush_tlb_func, irq off/on."""
    t0 = 5_000_000_000
    yield {"cpu": 0, "ts": t0, "pid": 1234, "comm": "stress-ng", "flags": 0x00,
           "preempt": 0, "event": "lock:lock_acquire",
           "fields": {"flags": 3, "name": "&mm->mmap_lock", "lockdep_addr": 0xffff888012345678}}
    yield {"cpu": 0, "ts": t0 + 1_200, "pid": 1234, "comm": "stress-ng", "flags": 0x00,
           "preempt": 0, "event": "lock:lock_release",
           "fields": {"name": "&mm->mmap_lock", "lockdep_addr": 0xffff888012345678}}
    yield {"cpu": 0, "ts": t0 + 2_000, "pid": 1234, "comm": "stress-ng", "flags": 0x01,
           "preempt": 0, "event": "preemptirq:irq_disable",
           "fields": {"caller_offs": 0x100000, "parent_offs": 0x106000}}
    yield {"cpu": 0, "ts": t0 + 2_500, "pid": 1234, "comm": "stress-ng", "flags": 0x01,
           "preempt": 1, "event": "ipi:ipi_send_cpu",
           "fields": {"cpu": 1, "callsite": 0xffffffff81081000 + 0x4c,
                      "callback": 0xffffffff81080000}}
    yield {"cpu": 0, "ts": t0 + 3_000, "pid": 1234, "comm": "stress-ng", "flags": 0x01,
           "preempt": 0, "event": "preemptirq:irq_enable",
           "fields": {"caller_offs": 0x101000, "parent_offs": 0x106000}}
    # cpu 1: hard irq then softirq
    yield {"cpu": 1, "ts": t0 + 500, "pid": 0, "comm": "swapper/1", "flags": 0x09,
           "preempt": 1, "event": "irq:irq_handler_entry",
           "fields": {"irq": 24, "name": "nvme0q1"}}
    yield {"cpu": 1, "ts": t0 + 4_000, "pid": 0, "comm": "swapper/1", "flags": 0x09,
           "preempt": 1, "event": "irq:irq_handler_exit",
           "fields": {"irq": 24, "ret": 1}}
    yield {"cpu": 1, "ts": t0 + 5_000, "pid": 0, "comm": "swapper/1", "flags": 0x10,
           "preempt": 1, "event": "irq:softirq_entry", "fields": {"vec": 3}}
    yield {"cpu": 1, "ts": t0 + 9_000, "pid": 0, "comm": "swapper/1", "flags": 0x10,
           "preempt": 1, "event": "irq:softirq_exit", "fields": {"vec": 3}}


def _jsonl_events(stream):
    for lineno, line in enumerate(stream, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as e:
            raise SystemExit("stdin line %d: %s" % (lineno, e))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write a trace-cmd v6 trace.dat from "
                                 "JSON-lines events on stdin (or a demo trace).")
    ap.add_argument("output", help="trace.dat file to write")
    ap.add_argument("--demo", action="store_true", help="write a small demo trace")
    ap.add_argument("--cpus", type=int, default=None,
                    help="number of CPUs (default: highest event cpu + 1)")
    ap.add_argument("--kallsyms", metavar="FILE",
                    help="extra symbols in /proc/kallsyms format ('addr T name')")
    ap.add_argument("--clock", default="local", help="trace clock name (default local)")
    args = ap.parse_args(argv)

    extra = None
    if args.kallsyms:
        with open(args.kallsyms) as f:
            extra = f.read()
    if args.demo:
        events, cpus = demo_events(), (args.cpus or 2)
    else:
        events, cpus = _jsonl_events(sys.stdin), args.cpus
    try:
        st = write_trace_dat(args.output, cpus, events, kallsyms=extra,
                             trace_clock=args.clock)
    except (ValueError, TypeError, KeyError) as e:
        print("write-trace-dat: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %d events, %d cpus, %d pages, %d bytes"
          % (args.output, st["events"], st["cpus"], st["pages"], st["bytes"]),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
