/*
 * allreduce_bench.c: the C baseline of `salvo bench --allreduce` (shipped in Salvo's jar as
 * salvo/bench/allreduce_bench.c, compiled with mpicc in the same run).
 *
 *   mpicc -O2 -o allreduce_bench allreduce_bench.c
 *   mpirun -np 2 ./allreduce_bench ITERATIONS FLOATS [FLOATS ...]
 *
 * Allocates one float buffer per bucket (FLOATS floats each), checks one in-place MPI_Allreduce
 * (MPI_FLOAT, MPI_SUM) of every bucket against the expected sum, runs WARMUP untimed steps, then
 * ITERATIONS timed steps. A step is MPI_Barrier, then the in-place MPI_Allreduce of every bucket
 * in order; the step and each bucket's call are timed with MPI_Wtime on every rank. Rank 0 prints
 * one JSON line: every step's and every bucket call's seconds in the order measured (step_samples,
 * bucket_samples), then the step's median, min, max, p10 and p90 and each bucket's median (rank 0's
 * clock; quantiles interpolate linearly between order statistics, as Salvo's worker does).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARMUP 5

static int compare(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* q-quantile of n sorted values, linear between order statistics (q = 0.5: the median). */
static double quantile(const double *sorted, int n, double q) {
    double pos = q * (n - 1);
    int i = (int) pos;
    if (i + 1 >= n) {
        return sorted[n - 1];
    }
    return sorted[i] + (sorted[i + 1] - sorted[i]) * (pos - i);
}

static long parse(const char *s, const char *what, int rank) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 1L << 30) {
        if (rank == 0) {
            fprintf(stderr, "allreduce_bench: %s must be an integer in [1, 2^30], got '%s'\n", what, s);
        }
        return -1;
    }
    return v;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 3) {
        if (rank == 0) {
            fprintf(stderr, "usage: mpirun -np N allreduce_bench ITERATIONS FLOATS [FLOATS ...]\n");
        }
        MPI_Finalize();
        return 2;
    }
    long iterations = parse(argv[1], "ITERATIONS", rank);
    int buckets = argc - 2;
    long *floats = malloc(sizeof(long) * buckets);
    int bad = iterations < 0;
    for (int b = 0; b < buckets; b++) {
        floats[b] = parse(argv[2 + b], "FLOATS", rank);
        bad |= floats[b] < 0;
    }
    if (bad) {
        MPI_Finalize();
        return 2;
    }
    float **buf = malloc(sizeof(float *) * buckets);
    long total = 0;
    for (int b = 0; b < buckets; b++) {
        buf[b] = aligned_alloc(64, ((size_t) floats[b] * sizeof(float) + 63) / 64 * 64);
        if (buf[b] == NULL) {
            fprintf(stderr, "allreduce_bench: rank %d: out of memory for %ld floats\n", rank, floats[b]);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        total += floats[b];
    }

    /* correctness: rank r contributes r + 1 everywhere; the sum is size (size + 1) / 2 */
    const char *check = "ok";
    for (int b = 0; b < buckets; b++) {
        for (long i = 0; i < floats[b]; i++) {
            buf[b][i] = (float) (rank + 1);
        }
        MPI_Allreduce(MPI_IN_PLACE, buf[b], (int) floats[b], MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        float want = (float) size * (size + 1) / 2;
        if (buf[b][0] != want || buf[b][floats[b] - 1] != want || buf[b][floats[b] / 2] != want) {
            check = "wrong sum";
        }
        memset(buf[b], 0, (size_t) floats[b] * sizeof(float)); /* zeros stay zeros: no overflow over the steps */
    }

    double *step = malloc(sizeof(double) * iterations);
    double *per = malloc(sizeof(double) * iterations * buckets);
    for (long it = -WARMUP; it < iterations; it++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int b = 0; b < buckets; b++) {
            double tb = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf[b], (int) floats[b], MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            if (it >= 0) {
                per[b * iterations + it] = MPI_Wtime() - tb;
            }
        }
        if (it >= 0) {
            step[it] = MPI_Wtime() - t0;
        }
    }

    if (rank == 0) {
        char version[MPI_MAX_LIBRARY_VERSION_STRING];
        int len;
        MPI_Get_library_version(version, &len);
        version[strcspn(version, ",\n\"\\")] = '\0';
        /* every sample in the order measured, so that several runs can be pooled */
        printf("{\"step_samples\":[");
        for (long it = 0; it < iterations; it++) {
            printf("%s%.9g", it ? "," : "", step[it]);
        }
        printf("],\"bucket_samples\":[");
        for (int b = 0; b < buckets; b++) {
            printf("%s[", b ? "," : "");
            for (long it = 0; it < iterations; it++) {
                printf("%s%.9g", it ? "," : "", per[b * iterations + it]);
            }
            printf("]");
        }
        printf("],");
        qsort(step, iterations, sizeof(double), compare);
        printf("\"program\":\"allreduce_bench.c\",\"mpi\":\"%s\",\"ranks\":%d,\"iterations\":%ld,\"warmup\":%d,"
               "\"bucket_floats\":[", version, size, iterations, WARMUP);
        for (int b = 0; b < buckets; b++) {
            printf("%s%ld", b ? "," : "", floats[b]);
        }
        printf("],\"bytes\":%ld,\"check\":\"%s\",\"step_seconds\":{\"median\":%.9g,\"min\":%.9g,\"max\":%.9g,"
               "\"p10\":%.9g,\"p90\":%.9g},\"bucket_median_seconds\":[", total * 4, check,
               quantile(step, iterations, 0.5), step[0], step[iterations - 1],
               quantile(step, iterations, 0.1), quantile(step, iterations, 0.9));
        for (int b = 0; b < buckets; b++) {
            double *s = per + b * iterations;
            qsort(s, iterations, sizeof(double), compare);
            printf("%s%.9g", b ? "," : "", quantile(s, iterations, 0.5));
        }
        printf("]}\n");
        fflush(stdout);
    }
    for (int b = 0; b < buckets; b++) {
        free(buf[b]);
    }
    free(buf);
    free(floats);
    free(step);
    free(per);
    MPI_Finalize();
    return 0;
}
