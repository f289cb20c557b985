package dev.salvo.device;

import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * How far a float32 provider may stray from an op's float64 reference (the design document,
 * "Tolerances"). Int outputs are always compared exactly; a NaN or infinity in the reference must
 * be the same NaN or infinity on the device.
 */
public sealed interface OpTolerance {

    /** {@code |x - ref| <= atol + rtol |ref|}; a bound looser than the default carries its reason. */
    record Elementwise(double atol, double rtol, String reason) implements OpTolerance {
        public Elementwise {
            if (atol > 1e-3 || rtol > 1e-3) {
                throw new IllegalArgumentException("an elementwise bound may not be looser than 1e-3: " + reason);
            }
        }
    }

    /**
     * Each output element is a sum of at most {@code terms(n)} products (a convolution, a pooled
     * average, an overlapping col2im): {@code |x - ref| <= 2 gamma(K + 1) mag}, where {@code mag}
     * is the reference run on the absolute values of the inputs (the {@code |A||B|} of a matmul).
     */
    record Sum(ToLongFunction<int[]> terms, String reason) implements OpTolerance {
    }

    /**
     * A matrix product with the matmul epilogue ({@link Tolerance#gemm}). The op's buffers are named
     * as the matmul kernel's ({@code a, b, bias, z, y}) and so are its ints {@code hasBias, act,
     * hasY}; {@code shape} gives the {@link Gemm} of a call's ints. z is checked entry by entry, per
     * element and normwise, a bias and (accumulating) the old z one more term each, with
     * {@code operandError} added to each product's relative error (0 for float32 operands,
     * {@link Tolerance#TF32_OPERANDS} on tensor cores); y elementwise against the activation of the
     * device's own z. Elements between the entries of z and y must come back as they were.
     */
    record MatrixProduct(Function<int[], Gemm> shape, double operandError, String reason) implements OpTolerance {
    }

    /** Bitwise equal to the reference rounded to float32 (copies, max pooling, index ops). */
    record Exact(String reason) implements OpTolerance {
    }

    /** The default elementwise bound, {@link Tolerance#ATOL} and {@link Tolerance#RTOL}. */
    OpTolerance ELEMENTWISE = new Elementwise(Tolerance.ATOL, Tolerance.RTOL, "float32 elementwise math");
}
