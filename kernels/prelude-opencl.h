/* prelude-opencl.h: maps Salvo's neutral kernel dialect onto OpenCL C 1.2.
 * The OpenCL provider prepends this to every .kernel file before building it. */
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_PTR __local /* a function parameter pointing into local memory */
#define CONST_GLOBAL __global const
#define GLOBAL_ID(d) ((int) get_global_id(d))
#define LOCAL_ID(d) ((int) get_local_id(d))
#define GROUP_ID(d) ((int) get_group_id(d))
#define LOCAL_SIZE(d) ((int) get_local_size(d))
#define NUM_GROUPS(d) ((int) get_num_groups(d)) /* work-groups launched along d (1 past the launch's dimensions) */
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define LOCAL_ARRAY(type, name, size) __local type name[size]
#define DEVICE_FN static inline
#define IS_FINITE(x) isfinite(x)
#define MULHI_U32(a, b) mul_hi((uint) (a), (uint) (b)) /* high 32 bits of the 64-bit product of two unsigned ints */
/* Short float vectors of width n in {1, 2, 4, 8, 16} (n may be a macro):
 *   VECF(n) the type; VLOADF(n, p) n floats from a global pointer (any alignment);
 *   VSPLATF(n, x) x in every lane; VFMA(a, b, c) a*b+c rounded once, lane by lane;
 *   VSUMF(n, v) the lanes summed in a fixed pairwise tree; VSTOREF(n, v, p) to a private array. */
#define SALVO_CAT_(a, b) a##b
#define SALVO_CAT(a, b) SALVO_CAT_(a, b)
typedef float salvo_float1;
#define VECF(n) SALVO_CAT(salvo_float, n)
#define VLOADF(n, p) SALVO_CAT(salvo_vload, n)(p)
#define VSPLATF(n, x) ((VECF(n)) (x))
#define VFMA(a, b, c) fma(a, b, c)
#define VSUMF(n, v) SALVO_CAT(salvo_vsum, n)(v)
#define VSTOREF(n, v, p) SALVO_CAT(salvo_vstore, n)(v, p)
typedef float2 salvo_float2;
typedef float4 salvo_float4;
typedef float8 salvo_float8;
typedef float16 salvo_float16;
DEVICE_FN float salvo_vload1(__global const float* p) { return *p; }
DEVICE_FN float2 salvo_vload2(__global const float* p) { return vload2(0, p); }
DEVICE_FN float4 salvo_vload4(__global const float* p) { return vload4(0, p); }
DEVICE_FN float8 salvo_vload8(__global const float* p) { return vload8(0, p); }
DEVICE_FN float16 salvo_vload16(__global const float* p) { return vload16(0, p); }
DEVICE_FN float salvo_vsum1(float v) { return v; }
DEVICE_FN float salvo_vsum2(float2 v) { return v.s0 + v.s1; }
DEVICE_FN float salvo_vsum4(float4 v) { return salvo_vsum2(v.lo) + salvo_vsum2(v.hi); }
DEVICE_FN float salvo_vsum8(float8 v) { return salvo_vsum4(v.lo) + salvo_vsum4(v.hi); }
DEVICE_FN float salvo_vsum16(float16 v) { return salvo_vsum8(v.lo) + salvo_vsum8(v.hi); }
DEVICE_FN void salvo_vstore1(float v, float* p) { p[0] = v; }
DEVICE_FN void salvo_vstore2(float2 v, float* p) { vstore2(v, 0, p); }
DEVICE_FN void salvo_vstore4(float4 v, float* p) { vstore4(v, 0, p); }
DEVICE_FN void salvo_vstore8(float8 v, float* p) { vstore8(v, 0, p); }
DEVICE_FN void salvo_vstore16(float16 v, float* p) { vstore16(v, 0, p); }
#define SALVO_UNROLL _Pragma("unroll")
#define VADDF(a, b) ((a) + (b))
/* Vector math: 1 where VECF(n) for n > 1 supports arithmetic, comparisons, ?: lane by lane and the
 * math builtins (exp, tanh, ...) lane by lane (OpenCL C); 0 where only n = 1 does (CUDA).
 *   VSTOREGF(n, v, p) stores to a global pointer (any alignment); VLOADPF(n, p) loads from a private array. */
#define SALVO_VEC_MATH 1
#define VSTOREGF(n, v, p) SALVO_CAT(salvo_vstoreg, n)(v, p)
#define VLOADPF(n, p) SALVO_CAT(salvo_vloadp, n)(p)
DEVICE_FN void salvo_vstoreg1(float v, __global float* p) { p[0] = v; }
DEVICE_FN void salvo_vstoreg2(float2 v, __global float* p) { vstore2(v, 0, p); }
DEVICE_FN void salvo_vstoreg4(float4 v, __global float* p) { vstore4(v, 0, p); }
DEVICE_FN void salvo_vstoreg8(float8 v, __global float* p) { vstore8(v, 0, p); }
DEVICE_FN void salvo_vstoreg16(float16 v, __global float* p) { vstore16(v, 0, p); }
DEVICE_FN float salvo_vloadp1(const float* p) { return *p; }
DEVICE_FN float2 salvo_vloadp2(const float* p) { return vload2(0, p); }
DEVICE_FN float4 salvo_vloadp4(const float* p) { return vload4(0, p); }
DEVICE_FN float8 salvo_vloadp8(const float* p) { return vload8(0, p); }
DEVICE_FN float16 salvo_vloadp16(const float* p) { return vload16(0, p); }
