// Counts heap allocations in this process while counting is on: the test binary's malloc family wraps
// glibc's, so every allocation by Swift code and the runtime on any thread passes through here.
#include <stddef.h>

/// 1 when allocations are counted; 0 in a sanitizer build, whose runtime owns malloc.
int alloc_counter_available(void);
void alloc_counter_start(void);
/// Stops counting; returns how many malloc/calloc/realloc/aligned allocations happened since start.
size_t alloc_counter_stop(void);
