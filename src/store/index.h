/* The in-memory index lives in src/index/; this name stays for its users. */
#include "index/index.h"
