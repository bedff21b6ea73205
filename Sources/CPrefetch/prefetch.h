#ifndef PGTRACE_CPREFETCH_H
#define PGTRACE_CPREFETCH_H

/* The compiler's prefetch (prefetcht0 on x86-64): Swift has no spelling of its own. A hint
   only: it changes no value, and an address it cannot reach is ignored, never a fault. */
static inline void pgtrace_prefetch(const void *address) { __builtin_prefetch(address); }

#endif
