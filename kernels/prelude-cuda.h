/* prelude-cuda.h: maps Salvo's neutral kernel dialect onto CUDA C++.
 * The CUDA provider prepends this to every .kernel file before compiling it. */
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define CONST_GLOBAL const
#define GLOBAL_ID(d) ((int) ((d) == 0 ? blockIdx.x * blockDim.x + threadIdx.x : (d) == 1 ? blockIdx.y * blockDim.y + threadIdx.y : blockIdx.z * blockDim.z + threadIdx.z))
#define LOCAL_ID(d) ((int) ((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z))
#define GROUP_ID(d) ((int) ((d) == 0 ? blockIdx.x : (d) == 1 ? blockIdx.y : blockIdx.z))
#define LOCAL_SIZE(d) ((int) ((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z))
#define BARRIER() __syncthreads()
#define LOCAL_ARRAY(type, name, size) __shared__ type name[size]
#define DEVICE_FN static __device__ __forceinline__
#define IS_FINITE(x) isfinite(x)
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
