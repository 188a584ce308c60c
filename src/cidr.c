/* cidr - stub, being written */
#include "cidr.h"
