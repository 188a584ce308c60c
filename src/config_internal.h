/* config_internal - stub, being written */
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H
#include "config.h"
#endif
