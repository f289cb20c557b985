package dev.salvo.device;

/**
 * Shape of a row-major matrix product {@code C (M,N) = op(A) op(B)} with
 * {@code op(A) (M,K)}, {@code op(B) (K,N)}.
 *
 * <p>{@code transA} means A is stored as (K,M) and used transposed; {@code transB} means B is
 * stored as (N,K). A training step uses three forms: {@code X W^T} (forward, weights stored
 * (out,in)), {@code dZ W} (input gradient) and {@code dZ^T X} (weight gradient).
 */
public record Gemm(int m, int n, int k, boolean transA, boolean transB) {

    public Gemm {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative gemm dimension: " + m + "x" + n + "x" + k);
        }
    }

    public static Gemm of(int m, int n, int k) {
        return new Gemm(m, n, k, false, false);
    }

    /** Elements of A as stored. */
    public long aLength() {
        return (long) m * k;
    }

    public long bLength() {
        return (long) k * n;
    }

    public long cLength() {
        return (long) m * n;
    }

    public double flops() {
        return 2.0 * m * n * k;
    }
}
