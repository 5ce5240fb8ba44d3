/* A placeholder filled below. */
#include "test.h"
