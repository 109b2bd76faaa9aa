#include "trace/trace-hw_vfio_vsmmu.h"
