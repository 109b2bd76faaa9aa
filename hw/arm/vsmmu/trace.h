#include "trace/trace-hw_arm_vsmmu.h"
