/* The "negative" guest: a valid module and component that export no Redis handler.
 * A host must refuse it with a clear error. Built with ../c/cabi.c, so it exports only
 * `run` and cabi_realloc. */
#include <stdio.h>

__attribute__((export_name("run")))
void run(void) {
    puts("negative guest: run called");
    fflush(stdout);
}
