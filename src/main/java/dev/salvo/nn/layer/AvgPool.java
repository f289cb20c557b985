package dev.salvo.nn.layer;

import dev.salvo.device.ops.PoolOps;

/**
 * Average pooling over {@code kernel x kernel} windows, NCHW, padding counted in the divisor (PyTorch's
 * default {@code count_include_pad=True}); backward spreads {@code dy / k^2} over each window.
 */
public record AvgPool(int kernel, int stride, int pad) implements Pool.Windowed {

    public AvgPool {
        Pool.check(kernel, stride, pad, "avgpool");
    }

    @Override
    public String type() {
        return "avgpool";
    }

    @Override
    public Runtime bind(Binding b) {
        return Pool.bind(b, this, PoolOps.AVGPOOL_FORWARD, PoolOps.AVGPOOL_BACKWARD, null);
    }
}
