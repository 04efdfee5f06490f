// Allocation counting by symbol interposition: the test executable defines malloc, calloc, realloc,
// posix_memalign and aligned_alloc, which the dynamic linker binds before libc's; each forwards to glibc's
// __libc_* entry points and counts while a measurement is on.
#include "AllocCounter.h"
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_int counting;
static atomic_size_t count;

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
/* A sanitizer's runtime owns malloc (forwarding to glibc's would bypass it, and ASan aborts): nothing is counted. */
int alloc_counter_available(void) { return 0; }
#else
int alloc_counter_available(void) { return 1; }

static inline void note(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) atomic_fetch_add(&count, 1);
}

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void *aligned_alloc(size_t alignment, size_t n) { note(); return __libc_memalign(alignment, n); }
int posix_memalign(void **out, size_t alignment, size_t n) {
    note();
    void *p = __libc_memalign(alignment, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#endif

void alloc_counter_start(void) {
    atomic_store(&count, 0);
    atomic_store(&counting, 1);
}

size_t alloc_counter_stop(void) {
    atomic_store(&counting, 0);
    return atomic_load(&count);
}
