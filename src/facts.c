/* facts - stub, being written */
#include "facts.h"
