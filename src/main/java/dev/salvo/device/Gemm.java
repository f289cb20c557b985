package dev.salvo.device;

/**
 * Shape of a row-major matrix product {@code C (M,N) = op(A) op(B)} with
 * {@code op(A) (M,K)}, {@code op(B) (K,N)}, optionally over a batch of such products and
 * optionally accumulating into C.
 *
 * <p>{@code transA} means A is stored as (K,M) and used transposed; {@code transB} means B is
 * stored as (N,K). A training step uses three forms: {@code X W^T} (forward, weights stored
 * (out,in)), {@code dZ W} (input gradient) and {@code dZ^T X} (weight gradient).
 *
 * <p>Batch: {@code batch} products, entry {@code e} reading A from element {@code e * strideA},
 * B from {@code e * strideB} and writing C from {@code e * strideC} (each matrix densely packed,
 * leading dimension as above). A stride of 0 shares that operand between every entry (conv
 * weights); strides larger than a matrix leave gaps that are never touched. Output entries must
 * not overlap: with {@code batch > 1}, {@code strideC} is at least {@code M*N}. Batch 0 is an
 * empty call (nothing is read or written).
 *
 * <p>{@code beta} is 0 or 1: with 1 the product is added to what C held ({@code C = op(A) op(B)
 * + bias + C}, NaN in C stays NaN as in PyTorch); with 0 C is only written, never read.
 *
 * <p>Build with {@link #of} and the readable modifiers:
 * {@code Gemm.of(m, n, k).transposeB().batched(b, strideA, 0, strideC).accumulate()}.
 */
public record Gemm(int m, int n, int k, boolean transA, boolean transB,
                   int batch, long strideA, long strideB, long strideC, int beta) {

    public Gemm {
        nonNegative("m", m);
        nonNegative("n", n);
        nonNegative("k", k);
        nonNegative("batch", batch);
        nonNegative("strideA", strideA);
        nonNegative("strideB", strideB);
        nonNegative("strideC", strideC);
        if (beta != 0 && beta != 1) {
            throw new IllegalArgumentException("gemm beta must be 0 or 1, got " + beta);
        }
        extent("strideA", batch, strideA, (long) m * k);
        extent("strideB", batch, strideB, (long) k * n);
        extent("strideC", batch, strideC, (long) m * n);
        long c = (long) m * n;
        if (batch > 1 && c > 0 && strideC < c) {
            throw new IllegalArgumentException("gemm strideC (" + strideC + ") is smaller than one output matrix (m*n = " + c
                    + "): the " + batch + " batch entries would overwrite each other");
        }
    }

    /** One product, no accumulation: the form every call used before batches existed. */
    public Gemm(int m, int n, int k, boolean transA, boolean transB) {
        this(m, n, k, transA, transB, 1, (long) m * k, (long) k * n, (long) m * n, 0);
    }

    /** {@code C (M,N) = A (M,K) B (K,N)}: one product, no transposes, no accumulation. */
    public static Gemm of(int m, int n, int k) {
        return new Gemm(m, n, k, false, false);
    }

    /** This shape with A stored (K,M) and used transposed. */
    public Gemm transposeA() {
        return new Gemm(m, n, k, true, transB, batch, strideA, strideB, strideC, beta);
    }

    /** This shape with B stored (N,K) and used transposed. */
    public Gemm transposeB() {
        return new Gemm(m, n, k, transA, true, batch, strideA, strideB, strideC, beta);
    }

    /** {@code batch} products with the given strides (elements between entries; 0 shares the operand). */
    public Gemm batched(int batch, long strideA, long strideB, long strideC) {
        return new Gemm(m, n, k, transA, transB, batch, strideA, strideB, strideC, beta);
    }

    /** {@code batch} products of densely packed, consecutive matrices. */
    public Gemm batched(int batch) {
        return batched(batch, aMatrixLength(), bMatrixLength(), cMatrixLength());
    }

    /** This shape adding into C ({@code beta = 1}). */
    public Gemm accumulate() {
        return new Gemm(m, n, k, transA, transB, batch, strideA, strideB, strideC, 1);
    }

    /** True when the product is added to C ({@code beta = 1}). */
    public boolean accumulates() {
        return beta == 1;
    }

    /** Elements of one A as stored. */
    public long aMatrixLength() {
        return (long) m * k;
    }

    public long bMatrixLength() {
        return (long) k * n;
    }

    public long cMatrixLength() {
        return (long) m * n;
    }

    /** Elements of A the whole call spans: {@code (batch-1) * strideA + M*K} (one matrix when the stride is 0). */
    public long aLength() {
        return span(strideA, aMatrixLength());
    }

    public long bLength() {
        return span(strideB, bMatrixLength());
    }

    public long cLength() {
        return span(strideC, cMatrixLength());
    }

    /** Multiply-adds times two, over the whole batch. */
    public double flops() {
        return 2.0 * m * n * k * batch;
    }

    private long span(long stride, long matrix) {
        return batch == 0 ? 0 : (batch - 1) * stride + matrix;
    }

    private static void nonNegative(String field, long v) {
        if (v < 0) {
            throw new IllegalArgumentException("gemm " + field + " must be >= 0, got " + v);
        }
    }

    private static void extent(String field, int batch, long stride, long matrix) {
        try {
            Math.addExact(Math.multiplyExact(Math.max(0, batch - 1), stride), matrix);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("gemm " + field + " (" + stride + ") times batch - 1 (" + (batch - 1)
                    + ") plus one matrix (" + matrix + " elements) overflows a long");
        }
    }
}
