/* The C declarations the Swift implementation (Sources/CAPI) is compiled against: include/swiftlet.h.
   SwiftPM needs one source file in a C target; this one checks the ABI assumptions the Swift side makes. */
#include "swiftlet.h"

_Static_assert(sizeof(swiftlet_status) == 4, "swiftlet_status is a 32-bit enum");
_Static_assert(sizeof(swiftlet_params) == 40, "swiftlet_params layout");
