/* prelude-opencl.h: maps Salvo's neutral kernel dialect onto OpenCL C 1.2.
 * The OpenCL provider prepends this to every .kernel file before building it. */
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define CONST_GLOBAL __global const
#define GLOBAL_ID(d) ((int) get_global_id(d))
#define LOCAL_ID(d) ((int) get_local_id(d))
#define GROUP_ID(d) ((int) get_group_id(d))
#define LOCAL_SIZE(d) ((int) get_local_size(d))
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define LOCAL_ARRAY(type, name, size) __local type name[size]
#define DEVICE_FN static inline
#define IS_FINITE(x) isfinite(x)
