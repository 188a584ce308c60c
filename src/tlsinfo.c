/* tlsinfo - stub, being written */
#include "tlsinfo.h"
