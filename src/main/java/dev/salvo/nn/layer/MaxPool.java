package dev.salvo.nn.layer;

import dev.salvo.device.Tensor;
import dev.salvo.device.ops.PoolOps;

/**
 * Max pooling over {@code kernel x kernel} windows (padding counts as -inf), NCHW: {@code y (N,C,OH,OW)}
 * with the argmax of each window kept (an int per output) for backward, which sends each
 * {@code dy} to the element that won. NaN wins, as in PyTorch.
 */
public record MaxPool(int kernel, int stride, int pad) implements Pool.Windowed {

    public MaxPool {
        Pool.check(kernel, stride, pad, "maxpool");
    }

    @Override
    public String type() {
        return "maxpool";
    }

    @Override
    public Runtime bind(Binding b) {
        Tensor idx = b.ints(b.y().dims());
        return Pool.bind(b, this, PoolOps.MAXPOOL_FORWARD, PoolOps.MAXPOOL_BACKWARD, idx);
    }
}
