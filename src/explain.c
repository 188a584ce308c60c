/* explain - stub, being written */
#include "explain.h"
