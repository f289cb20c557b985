package dev.salvo.device.ops;

import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.OpTolerance;
import java.util.List;
import java.util.Random;

/**
 * Deterministic sums ({@code kernels/reduce.kernel}): a fixed order, no atomics, so a provider
 * gives bitwise the same result on every run.
 *
 * <p>Bounds: a sum of K values has K - 1 roundings, so it is within {@code gamma(K - 1)} of the
 * sum of the absolute values; the ops declare {@link OpTolerance.Sum} with {@code K - 1} terms,
 * which checks {@code 2 gamma(K)} times that magnitude (the bound the handwritten checks used).
 */
public final class ReduceOps {

    private ReduceOps() {
    }

    /**
     * {@code out (C) <- sum over rows of x (R,C)}: the bias gradient. Work-item i owns the
     * {@code colsum.vw} adjacent columns from {@code i * colsum.vw}, rows in order; work-groups of
     * the row kernels' size.
     */
    public static final Op COLUMN_SUMS = new Op("reduce", "column_sums", "int rows, int cols, in x, out out") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {(long) n[0] * n[1], n[1]};
        }

        /** One work-item per column at {@code colsum.vw} 1. */
        @Override
        public long work(int[] n) {
            return n[1];
        }

        @Override
        public long[] global(int[] n, Launch t) {
            return new long[] {(n[1] + (long) t.colsumVw() - 1) / t.colsumVw()};
        }

        @Override
        public long[] local(int[] n, Launch t) {
            return new long[] {t.wgRows()};
        }

        @Override
        public void reference(RefArgs a) {
            int rows = a.n[0];
            int cols = a.n[1];
            for (int c = 0; c < cols; c++) {
                double s = 0;
                for (int r = 0; r < rows; r++) {
                    s += a.f[0][a.off[0] + r * cols + c];
                }
                a.f[1][a.off[1] + c] = s;
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> Math.max(0, n[0] - 1), "a sum of R values per column: R - 1 roundings");
        }

        @Override
        public double flops(int[] n) {
            return (double) n[0] * n[1];
        }

        /** Shapes of the former contract test (a long column, wide rows, no rows, odd widths), and NaN/inf. */
        @Override
        public List<Sample> samples(Random r) {
            Sample bad = sample("20x33, NaN and +inf", r, new int[] {20, 33});
            double[] x = (double[]) bad.data()[0];
            x[7 * 33 + 4] = Double.NaN;
            x[11 * 33 + 9] = Double.POSITIVE_INFINITY;
            x[15 * 33 + 9] = Double.NEGATIVE_INFINITY; // inf - inf: NaN
            x[3 * 33 + 20] = Double.NEGATIVE_INFINITY;
            java.util.Arrays.fill((double[]) bad.data()[1], ElementwiseOps.UNWRITTEN);
            return List.of(sample("1x1", r, new int[] {1, 1}), sample("4097x3", r, new int[] {4097, 3}),
                    sample("7x1000", r, new int[] {7, 1000}), sample("300x77", r, new int[] {300, 77}),
                    sample("0x5", r, new int[] {0, 5}), sample("5x0", r, new int[] {5, 0}), bad);
        }
    };

    /**
     * {@code out (1) <- sum of x (n)}: one work-group of {@code sum.wg} items, item l adding
     * {@code x[l], x[l + sum.wg], ...}, then a fixed tree in local memory.
     */
    public static final Op SUM_ALL = new Op("reduce", "sum_all", "int n, in x, out out") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], 1};
        }

        /** One work-group, whatever n (an empty x still writes 0). */
        @Override
        public long work(int[] n) {
            return 1;
        }

        @Override
        public long[] global(int[] n, Launch t) {
            return new long[] {t.sumWg()};
        }

        @Override
        public long[] local(int[] n, Launch t) {
            return new long[] {t.sumWg()};
        }

        @Override
        public void reference(RefArgs a) {
            double s = 0;
            for (int k = 0; k < a.n[0]; k++) {
                s += a.f[0][a.off[0] + k];
            }
            a.f[1][a.off[1]] = s;
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> Math.max(0, n[0] - 1), "a sum of n values: n - 1 roundings");
        }

        @Override
        public double flops(int[] n) {
            return n[0];
        }

        /** The lengths of the former contract test (1 to 23100 values), empty, and +inf. */
        @Override
        public List<Sample> samples(Random r) {
            Sample inf = sample("n=660, +inf", r, new int[] {660});
            ((double[]) inf.data()[0])[r.nextInt(660)] = Double.POSITIVE_INFINITY;
            return List.of(sample("n=1", r, new int[] {1}), sample("n=5000", r, new int[] {5000}),
                    sample("n=12291", r, new int[] {12291}), sample("n=23100", r, new int[] {23100}),
                    sample("n=0", r, new int[] {0}), inf);
        }
    };

    /** Parts of {@link #sumSquares}: work-groups on a kernel device, fixed chunks on the CPU. */
    public static final int SUMSQ_PARTS = 256;

    /**
     * {@code part (parts) <- sums of squares of x (n)} over {@code parts} fixed chunks, chunk p being
     * {@code [n p / parts, n (p + 1) / parts)}: the first stage of a global norm (gradient
     * clipping), the second adds the parts in order ({@link OptimizerOps#CLIP_SCALE}). Work-group p
     * of {@code sum.wg} items takes chunk p, item l its elements l, l + sum.wg, ..., then a fixed
     * tree in local memory. The chunks depend on n and parts only: bitwise reproducible.
     */
    public static final Op SUMSQ_ALL = new Op("reduce", "sumsq_all", "int n, int parts, in x, out part") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[1]};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (n[1] < 1) {
                throw new IllegalArgumentException(name() + ": parts must be at least 1, got " + n[1]);
            }
        }

        @Override
        public long work(int[] n) {
            return n[1];
        }

        @Override
        public long[] global(int[] n, Launch t) {
            return new long[] {(long) n[1] * t.sumWg()};
        }

        @Override
        public long[] local(int[] n, Launch t) {
            return new long[] {t.sumWg()};
        }

        @Override
        public void reference(RefArgs a) {
            int n = a.n[0];
            int parts = a.n[1];
            for (int p = 0; p < parts; p++) {
                int from = chunk(n, parts, p);
                int to = chunk(n, parts, p + 1);
                double s = 0;
                for (int k = from; k < to; k++) {
                    double v = a.f[0][a.off[0] + k];
                    s += v * v;
                }
                a.f[1][a.off[1] + p] = s;
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> (n[0] + (long) n[1] - 1) / n[1], "a sum of ceil(n / parts) squares per part");
        }

        @Override
        public double flops(int[] n) {
            return 2.0 * n[0];
        }

        @Override
        public List<Sample> samples(Random r) {
            Sample inf = sample("n=660 parts=4, +inf", r, new int[] {660, 4});
            ((double[]) inf.data()[0])[r.nextInt(660)] = Double.NEGATIVE_INFINITY;
            return List.of(sample("n=1 parts=1", r, new int[] {1, 1}), sample("n=5 parts=8", r, new int[] {5, 8}),
                    sample("n=23100 parts=256", r, new int[] {23100, SUMSQ_PARTS}), sample("n=12291 parts=3", r, new int[] {12291, 3}),
                    sample("n=0 parts=2", r, new int[] {0, 2}), inf);
        }
    };

    /** First element of chunk {@code p} of {@code n} elements in {@code parts} chunks. */
    public static int chunk(int n, int parts, int p) {
        return (int) ((long) n * p / parts);
    }

    public static final List<Op> ALL = List.of(COLUMN_SUMS, SUM_ALL, SUMSQ_ALL);

    /** {@code part (parts) <- } the sums of squares of x over {@code parts} fixed chunks. */
    public static OpCall sumSquares(DeviceBuffer x, DeviceBuffer part) {
        return SUMSQ_ALL.call(new DeviceBuffer[] {x, part},
                new int[] {ElementwiseOps.count(x, "sumsq_all: x"), ElementwiseOps.count(part, "sumsq_all: part")});
    }

    // ---- calls ------------------------------------------------------------------------------

    /** {@code out (cols) <- sum over rows of x (rows, cols)}. */
    public static OpCall columnSums(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        return COLUMN_SUMS.call(new DeviceBuffer[] {x, out}, new int[] {rows, cols});
    }

    /** {@code out (1) <- sum of all of x}. */
    public static OpCall sum(DeviceBuffer x, DeviceBuffer out) {
        return SUM_ALL.call(new DeviceBuffer[] {x, out}, new int[] {ElementwiseOps.count(x, "sum_all: x")});
    }
}
