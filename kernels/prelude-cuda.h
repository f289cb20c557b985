/* prelude-cuda.h: maps Salvo's neutral kernel dialect onto CUDA C++.
 * The CUDA provider prepends this to every .kernel file before compiling it. */
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_PTR /* a function parameter pointing into shared memory: a plain pointer in CUDA */
#define CONST_GLOBAL const
#define GLOBAL_ID(d) ((int) ((d) == 0 ? blockIdx.x * blockDim.x + threadIdx.x : (d) == 1 ? blockIdx.y * blockDim.y + threadIdx.y : blockIdx.z * blockDim.z + threadIdx.z))
#define LOCAL_ID(d) ((int) ((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z))
#define GROUP_ID(d) ((int) ((d) == 0 ? blockIdx.x : (d) == 1 ? blockIdx.y : blockIdx.z))
#define LOCAL_SIZE(d) ((int) ((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z))
#define NUM_GROUPS(d) ((int) ((d) == 0 ? gridDim.x : (d) == 1 ? gridDim.y : gridDim.z))
#define BARRIER() __syncthreads()
#define LOCAL_ARRAY(type, name, size) __shared__ type name[size]
#define DEVICE_FN static __device__ __forceinline__
#define IS_FINITE(x) isfinite(x)
#define MULHI_U32(a, b) __umulhi((unsigned int) (a), (unsigned int) (b)) /* high 32 bits of the 64-bit product of two unsigned ints */
#ifndef NAN
#define NAN __int_as_float(0x7fffffff)
#endif
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
/* Short float vectors of width n in {1, 2, 4, 8, 16} (n may be a macro), as in prelude-opencl.h:
 *   VECF(n) the type; VLOADF(n, p) n floats (element loads: any alignment); VSPLATF(n, x);
 *   VFMA(a, b, c) fmaf lane by lane; VSUMF(n, v) a fixed pairwise tree; VSTOREF(n, v, p). */
template <int N> struct salvo_vec { float v[N]; };
template <int N> struct salvo_vtype { typedef salvo_vec<N> type; };
template <> struct salvo_vtype<1> { typedef float type; };
#define VECF(n) salvo_vtype<n>::type
#define VLOADF(n, p) salvo_vload<n>(p)
#define VSPLATF(n, x) salvo_vsplat<n>(x)
#define VFMA(a, b, c) salvo_fma(a, b, c)
#define VSUMF(n, v) salvo_vsum<n>(v)
#define VSTOREF(n, v, p) salvo_vstore<n>(v, p)
template <int N> static __device__ __forceinline__ typename salvo_vtype<N>::type salvo_vload(const float* p) {
    salvo_vec<N> r;
#pragma unroll
    for (int i = 0; i < N; i++) r.v[i] = p[i];
    return r;
}
template <> __device__ __forceinline__ float salvo_vload<1>(const float* p) { return *p; }
template <int N> static __device__ __forceinline__ typename salvo_vtype<N>::type salvo_vsplat(float x) {
    salvo_vec<N> r;
#pragma unroll
    for (int i = 0; i < N; i++) r.v[i] = x;
    return r;
}
template <> __device__ __forceinline__ float salvo_vsplat<1>(float x) { return x; }
static __device__ __forceinline__ float salvo_fma(float a, float b, float c) { return fmaf(a, b, c); }
template <int N> static __device__ __forceinline__ salvo_vec<N> salvo_fma(salvo_vec<N> a, salvo_vec<N> b, salvo_vec<N> c) {
#pragma unroll
    for (int i = 0; i < N; i++) c.v[i] = fmaf(a.v[i], b.v[i], c.v[i]);
    return c;
}
template <int N> static __device__ __forceinline__ float salvo_vsum_tree(const float* p) {
    return salvo_vsum_tree<N / 2>(p) + salvo_vsum_tree<N / 2>(p + N / 2);
}
template <> __device__ __forceinline__ float salvo_vsum_tree<1>(const float* p) { return p[0]; }
template <int N> static __device__ __forceinline__ float salvo_vsum(typename salvo_vtype<N>::type v) {
    return salvo_vsum_tree<N>(v.v);
}
template <> __device__ __forceinline__ float salvo_vsum<1>(float v) { return v; }
template <int N> static __device__ __forceinline__ void salvo_vstore(typename salvo_vtype<N>::type v, float* p) {
#pragma unroll
    for (int i = 0; i < N; i++) p[i] = v.v[i];
}
template <> __device__ __forceinline__ void salvo_vstore<1>(float v, float* p) { p[0] = v; }
#define SALVO_UNROLL _Pragma("unroll")
#define VADDF(a, b) salvo_add(a, b)
static __device__ __forceinline__ float salvo_add(float a, float b) { return a + b; }
template <int N> static __device__ __forceinline__ salvo_vec<N> salvo_add(salvo_vec<N> a, salvo_vec<N> b) {
#pragma unroll
    for (int i = 0; i < N; i++) a.v[i] += b.v[i];
    return a;
}
/* Vector math (see prelude-opencl.h): the short-vector structs have no arithmetic or math builtins
 * here, so kernels that compute on VECF(n) lane by lane must use n = 1 under CUDA. */
#define SALVO_VEC_MATH 0
#define VSTOREGF(n, v, p) VSTOREF(n, v, p)
#define VLOADPF(n, p) VLOADF(n, p)
