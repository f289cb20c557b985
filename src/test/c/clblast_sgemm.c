/* clblast_sgemm.c: times CLBlast's sgemm on one OpenCL device, the reference for Salvo's
 * OpenCL matmul (dev.salvo.bench.OpenClMatmulVsClblast runs both in one invocation).
 *
 *   C (M,N) = op(A) op(B), row-major, float32; shapes NN (A B), NT (A B^T), TN (A^T B).
 *
 * Build:  gcc -O2 -o clblast_sgemm src/test/c/clblast_sgemm.c -lclblast -lOpenCL
 * Usage:  clblast_sgemm [--platform P] [--device D] [--samples S] [--min-ms T] SHAPE:M:N:K ...
 *         e.g. clblast_sgemm NN:1024:1024:1024 NT:128:784:512
 * Output: one line per case, "clblast SHAPE M N K median min max" in GFLOP/s (2MNK / time),
 *         after a warm-up call (CLBlast compiles its kernels on first use). A sample is the mean
 *         over enough back-to-back calls to last at least T ms (default 100); S samples (default 7).
 *         Spot-checks 16 elements of C against a double-precision dot product on the host.
 *         Lines starting with '#' are comments (device name, compile time). */
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void* a, const void* b) {
    double x = *(const double*) a, y = *(const double*) b;
    return x < y ? -1 : x > y;
}

static void die(const char* what, int status) {
    fprintf(stderr, "clblast_sgemm: %s failed with status %d\n", what, status);
    exit(1);
}

static unsigned long long rng = 88172645463325252ULL;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float) ((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

int main(int argc, char** argv) {
    int platformIndex = 0, deviceIndex = 0, samples = 7;
    double minMs = 100;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (first + 1 >= argc) {
            fprintf(stderr, "clblast_sgemm: option %s needs a value\n", argv[first]);
            return 2;
        }
        if (!strcmp(argv[first], "--platform")) platformIndex = atoi(argv[first + 1]);
        else if (!strcmp(argv[first], "--device")) deviceIndex = atoi(argv[first + 1]);
        else if (!strcmp(argv[first], "--samples")) samples = atoi(argv[first + 1]);
        else if (!strcmp(argv[first], "--min-ms")) minMs = atof(argv[first + 1]);
        else {
            fprintf(stderr, "clblast_sgemm: unknown option %s (expected --platform, --device, --samples, --min-ms)\n", argv[first]);
            return 2;
        }
    }
    if (samples < 1 || samples > 1000) {
        fprintf(stderr, "clblast_sgemm: --samples must be 1..1000, got %d\n", samples);
        return 2;
    }
    cl_platform_id platforms[16];
    cl_uint np = 0;
    int st = clGetPlatformIDs(16, platforms, &np);
    if (st != CL_SUCCESS || np == 0) die("clGetPlatformIDs (no OpenCL platform)", st);
    if (platformIndex < 0 || platformIndex >= (int) np) {
        fprintf(stderr, "clblast_sgemm: --platform %d out of range (0..%u)\n", platformIndex, np - 1);
        return 2;
    }
    cl_device_id devices[16];
    cl_uint nd = 0;
    st = clGetDeviceIDs(platforms[platformIndex], CL_DEVICE_TYPE_ALL, 16, devices, &nd);
    if (st != CL_SUCCESS || nd == 0) die("clGetDeviceIDs", st);
    if (deviceIndex < 0 || deviceIndex >= (int) nd) {
        fprintf(stderr, "clblast_sgemm: --device %d out of range (0..%u)\n", deviceIndex, nd - 1);
        return 2;
    }
    cl_device_id dev = devices[deviceIndex];
    char name[256];
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
    printf("# device %s\n", name);
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &st);
    if (st != CL_SUCCESS) die("clCreateContext", st);
    cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &st);
    if (st != CL_SUCCESS) die("clCreateCommandQueue", st);

    for (int a = first; a < argc; a++) {
        char shape[3] = {0};
        long m, n, k;
        if (sscanf(argv[a], "%2[NT]:%ld:%ld:%ld", shape, &m, &n, &k) != 4 || strlen(shape) != 2 || !strcmp(shape, "TT")
                || m < 1 || n < 1 || k < 1) {
            fprintf(stderr, "clblast_sgemm: case '%s' must be SHAPE:M:N:K with SHAPE NN, NT or TN and sizes >= 1\n", argv[a]);
            return 2;
        }
        int ta = shape[0] == 'T', tb = shape[1] == 'T';
        size_t na = (size_t) m * k, nb = (size_t) k * n, nc = (size_t) m * n;
        float* ha = malloc(na * 4);
        float* hb = malloc(nb * 4);
        float* hc = malloc(nc * 4);
        for (size_t i = 0; i < na; i++) ha[i] = frand();
        for (size_t i = 0; i < nb; i++) hb[i] = frand();
        for (size_t i = 0; i < nc; i++) hc[i] = NAN;
        cl_mem da = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, na * 4, ha, &st);
        if (st != CL_SUCCESS) die("clCreateBuffer(A)", st);
        cl_mem db = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nb * 4, hb, &st);
        if (st != CL_SUCCESS) die("clCreateBuffer(B)", st);
        cl_mem dc = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nc * 4, hc, &st);
        if (st != CL_SUCCESS) die("clCreateBuffer(C)", st);
        /* row-major: lda is the row length of A as stored */
        size_t lda = ta ? m : k, ldb = tb ? k : n;
        double t0 = now();
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                          tb ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, 1.0f, da, 0, lda, db, 0, ldb, 0.0f, dc, 0,
                          n, &q, NULL);
        if (st != CLBlastSuccess) die("CLBlastSgemm", st);
        clFinish(q);
        double warm = now() - t0;
        st = clEnqueueReadBuffer(q, dc, CL_TRUE, 0, nc * 4, hc, 0, NULL, NULL);
        if (st != CL_SUCCESS) die("clEnqueueReadBuffer", st);
        for (int s = 0; s < 16; s++) {
            long i = (long) (s * 7919L % m), j = (long) (s * 104729L % n);
            double ref = 0, mag = 0;
            for (long p = 0; p < k; p++) {
                double x = ta ? ha[p * m + i] : ha[i * k + p];
                double y = tb ? hb[j * k + p] : hb[p * n + j];
                ref += x * y;
                mag += fabs(x * y);
            }
            double err = fabs(hc[i * n + j] - ref);
            if (!(err <= 2 * k * 5.96e-8 * mag + 1e-30)) {
                fprintf(stderr, "clblast_sgemm: %s C[%ld][%ld] = %g, expected %g\n", argv[a], i, j, hc[i * n + j], ref);
                return 1;
            }
        }
        printf("# %s first call (compile + run) %.3f s\n", argv[a], warm);
        /* calls per sample */
        t0 = now();
        CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo, tb ? CLBlastTransposeYes : CLBlastTransposeNo,
                     m, n, k, 1.0f, da, 0, lda, db, 0, ldb, 0.0f, dc, 0, n, &q, NULL);
        clFinish(q);
        double one = now() - t0;
        int reps = (int) ceil(minMs * 1e-3 / (one > 1e-9 ? one : 1e-9));
        if (reps < 1) reps = 1;
        double* g = malloc(samples * sizeof(double));
        for (int s = 0; s < samples; s++) {
            t0 = now();
            for (int r = 0; r < reps; r++) {
                st = CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                  tb ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, 1.0f, da, 0, lda, db, 0, ldb, 0.0f,
                                  dc, 0, n, &q, NULL);
                if (st != CLBlastSuccess) die("CLBlastSgemm", st);
            }
            clFinish(q);
            g[s] = 2.0 * m * n * k * reps / (now() - t0) / 1e9;
        }
        qsort(g, samples, sizeof(double), cmp);
        double med = samples % 2 ? g[samples / 2] : (g[samples / 2 - 1] + g[samples / 2]) / 2;
        printf("clblast %s %ld %ld %ld %.3f %.3f %.3f\n", shape, m, n, k, med, g[0], g[samples - 1]);
        fflush(stdout);
        free(g);
        clReleaseMemObject(da);
        clReleaseMemObject(db);
        clReleaseMemObject(dc);
        free(ha);
        free(hb);
        free(hc);
    }
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    return 0;
}
