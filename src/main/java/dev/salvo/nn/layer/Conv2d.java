package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Tensor;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ConvOps;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.device.ops.TensorOps;
import dev.salvo.nn.Layer;

/**
 * 2-D convolution, NCHW, dilation 1, groups 1: {@code x (N,C,H,W)}, {@code W (OC,C,kh,kw)}
 * (PyTorch's {@code nn.Conv2d} layout), optional {@code b (OC)}, {@code y (N,OC,OH,OW)} with
 * {@code OH = (H + 2 pad - kh) / stride + 1}.
 *
 * <p>Forward as im2col and one matrix product over the whole batch: {@code col (C kh kw, N OH OW)},
 * {@code y' (OC, N OH OW) = W col}, then {@code y = swap01(y')} to NCHW and the bias per channel.
 * Backward: {@code dy' = swap01(dy)}, {@code dW = dy' col^T}, {@code db = per-channel sums of dy},
 * {@code dcol = W^T dy'} (in the col workspace, after dW used it) and {@code dx = col2im(dcol)}.
 */
public record Conv2d(int out, int kernel, int stride, int pad, boolean bias) implements Layer {

    public Conv2d {
        Rows.positive(out, "conv2d out (channels)");
        Rows.positive(kernel, "conv2d kernel");
        Rows.positive(stride, "conv2d stride");
        if (pad < 0) {
            throw new IllegalArgumentException("conv2d padding must be 0 or more, got " + pad);
        }
    }

    public Conv2d pad(int p) {
        return new Conv2d(out, kernel, stride, p, bias);
    }

    public Conv2d stride(int s) {
        return new Conv2d(out, kernel, s, pad, bias);
    }

    public Conv2d bias(boolean b) {
        return new Conv2d(out, kernel, stride, pad, b);
    }

    @Override
    public String type() {
        return "conv2d";
    }

    private int outSize(int in) {
        return (in + 2 * pad - kernel) / stride + 1;
    }

    @Override
    public int[] outputShape(int[][] in) {
        Rows.requireImage(in[0], "conv2d");
        int h = in[0][1];
        int w = in[0][2];
        if (h + 2 * pad < kernel || w + 2 * pad < kernel) {
            throw new IllegalArgumentException("its " + kernel + "x" + kernel + " kernel is larger than the padded input "
                    + (h + 2 * pad) + "x" + (w + 2 * pad));
        }
        return new int[] {out, outSize(h), outSize(w)};
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        int c = in[0][0];
        int k = c * kernel * kernel;
        d.param("weight", new int[] {out, c, kernel, kernel}, new ParamInit.Weights(k, out * kernel * kernel, Activation.RELU));
        if (bias) {
            d.param("bias", new int[] {out}, new ParamInit.Constant(0));
        }
    }

    @Override
    public String describe() {
        return "conv2d(" + out + "," + kernel + "x" + kernel + (stride == 1 ? "" : ",s" + stride) + (pad == 0 ? "" : ",p" + pad)
                + (bias ? "" : ",no-bias") + ")";
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("out", out);
        n.put("kernel", kernel);
        n.put("stride", stride);
        n.put("padding", pad);
        n.put("bias", bias);
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int c = b.inShape(0)[0];
        int h = b.inShape(0)[1];
        int w = b.inShape(0)[2];
        int oh = b.outShape()[1];
        int ow = b.outShape()[2];
        int s = oh * ow;
        int k = c * kernel * kernel;
        int cap = b.capacity();
        Tensor wm = b.param("weight").flatten(1); // (OC, C*kh*kw)
        Tensor gwm = b.grad("weight").flatten(1);
        DeviceBuffer bb = bias ? b.param("bias").data() : null;
        DeviceBuffer gb = bias ? b.grad("bias").data() : null;
        DeviceBuffer colAll = b.floats(k * cap * s).data();
        DeviceBuffer tAll = b.floats(out * cap * s).data();
        return rows -> {
            int cols = rows * s;
            int[] geo = {rows, c, h, w, kernel, kernel, stride, pad, oh, ow};
            Tensor colT = Tensor.of(colAll, k, cols); // im2col: (C*kh*kw, N*OH*OW)
            Tensor tT = Tensor.of(tAll, out, cols); // the product: (OC, N*OH*OW)
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer col = colT.data();
            DeviceBuffer t = tT.data();
            DeviceBuffer y = Rows.of(b.y(), rows);
            DeviceBuffer dy = Rows.of(b.dy(), rows);
            DeviceBuffer dx = Rows.of(b.dx(0), rows);
            OpCall im2col = ConvOps.IM2COL.call(new DeviceBuffer[] {x, col}, geo);
            OpCall toNchw = TensorOps.SWAP01.call(new DeviceBuffer[] {t, y}, new int[] {out, rows, s});
            OpCall addBias = bias ? TensorOps.CHANNEL_BIAS.call(new DeviceBuffer[] {y, bb, y}, new int[] {rows, out, s}) : null;
            OpCall toCnhw = TensorOps.SWAP01.call(new DeviceBuffer[] {dy, t}, new int[] {rows, out, s});
            OpCall biasGrad = bias ? TensorOps.CHANNEL_BIAS_GRAD.call(new DeviceBuffer[] {dy, gb}, new int[] {rows, out, s}) : null;
            OpCall col2im = dx == null ? null : ConvOps.COL2IM.call(new DeviceBuffer[] {col, dx}, geo);
            // t (OC, N*S) = W (OC, K) col; dW = t col^T; dcol (K, N*S) = W^T t
            OpCall fwd = MatmulOps.matmul(wm, colT, null, Activation.IDENTITY, tT, null);
            OpCall wGrad = MatmulOps.matmul(tT, colT.transpose(0, 1), null, Activation.IDENTITY, gwm, null);
            OpCall colGrad = dx == null ? null : MatmulOps.matmul(wm.transpose(0, 1), tT, null, Activation.IDENTITY, colT, null);
            return new Pass() {
                @Override
                public void forward() {
                    d.run(im2col);
                    d.run(fwd);
                    d.run(toNchw);
                    if (addBias != null) {
                        d.run(addBias);
                    }
                }

                @Override
                public void backward() {
                    d.run(toCnhw);
                    d.run(wGrad);
                    if (biasGrad != null) {
                        d.run(biasGrad);
                    }
                    if (col2im != null) {
                        d.run(colGrad);
                        d.run(col2im);
                    }
                }
            };
        };
    }
}
