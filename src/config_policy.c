/* config_policy - stub, being written */
#include "config_internal.h"
