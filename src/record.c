/* record - stub, being written */
#include "record.h"
