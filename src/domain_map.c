/* domain_map - stub, being written */
#include "domain_map.h"
